import {TaskControlCommand} from '../../cli/task-control-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class TaskResume extends TaskControlCommand {
  static override summary = 'Resume a paused task (SIGCONT to every process it started)'
  static override description = `Continues every process of a paused task.`
  static override examples = ['<%= config.bin %> task resume 1a2b']
  static override args = {task: taskIdArg}

  async run(): Promise<unknown> {
    const {args} = await this.parse(TaskResume)
    return this.control('resume', args.task)
  }
}
