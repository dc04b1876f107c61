import {TaskCommand} from '../../task-command.js'
import {taskIdArg} from '../../task-flags.js'

export default class TaskResume extends TaskCommand {
  static override summary = 'Resume a paused task (SIGCONT to every process it started)'
  static override description = `Continues every process of a paused task.`
  static override examples = ['<%= config.bin %> task resume 1a2b']
  static override args = {task: taskIdArg}

  async run(): Promise<unknown> {
    const {args} = await this.parse(TaskResume)
    const manager = await this.taskManager()
    const task = await manager.resume(args.task)
    if (this.jsonEnabled()) return (await import('../../lib/store/task-record.js')).toTaskJson(task)
    this.say(`Task ${task.shortId} is ${task.state}.`)
    return undefined
  }
}
