import {MergeCommand} from '../../cli/merge-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class MergeAbort extends MergeCommand {
  static override summary = "Abort the merge in progress in a task's worktree"
  static override description = 'HEAD, index and files go back to how they were before merge start. Exit 4 when no merge is in progress. With --json: {"taskId", "success", "message"}.'
  static override examples = ['<%= config.bin %> merge abort 1a2b']
  static override args = {task: taskIdArg}

  async run(): Promise<unknown> {
    const {args} = await this.parse(MergeAbort)
    const {merges, ctx} = await this.merges()
    const result = await merges.abortTaskMerge(ctx, args.task)
    if (this.jsonEnabled()) return result
    this.say(result.message)
    return undefined
  }
}
