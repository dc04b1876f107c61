import {TaskControlCommand} from '../../cli/task-control-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class TaskInterrupt extends TaskControlCommand {
  static override summary = 'End a task and every process it started; the worktree stays'
  static override description = `Sends SIGTERM to Claude Code and every process it started, then SIGKILL after process.interruptGraceSecs, and returns once the task is interrupted. The worktree and branch stay, and an interrupted task with a session can be resumed with "makima task send".`
  static override examples = ['<%= config.bin %> task interrupt 1a2b']
  static override args = {task: taskIdArg}

  async run(): Promise<unknown> {
    const {args} = await this.parse(TaskInterrupt)
    return this.control('interrupt', args.task)
  }
}
