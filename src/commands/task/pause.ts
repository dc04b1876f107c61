import {TaskControlCommand} from '../../cli/task-control-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class TaskPause extends TaskControlCommand {
  static override summary = 'Pause a running task: stop every process it started (SIGSTOP)'
  static override description = `Stops Claude Code and every process it started, including Bash tool commands that run in sessions of their own. "makima task resume" continues them.`
  static override examples = ['<%= config.bin %> task pause 1a2b']
  static override args = {task: taskIdArg}

  async run(): Promise<unknown> {
    const {args} = await this.parse(TaskPause)
    return this.control('pause', args.task)
  }
}
