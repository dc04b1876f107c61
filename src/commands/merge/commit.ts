import {Flags} from '@oclif/core'

import {MergeCommand} from '../../cli/merge-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class MergeCommit extends MergeCommand {
  static override summary = "Commit the merge in progress in a task's worktree"
  static override description = 'Exit 4 when no merge is in progress or conflicted files are left (they are listed). With --json: {"taskId", "success", "message", "commitSha"}.'
  static override examples = ['<%= config.bin %> merge commit 1a2b -m "Merge the parser subtask"']
  static override args = {task: taskIdArg}
  static override flags = {
    message: Flags.string({char: 'm', required: true, description: 'the merge commit message'}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(MergeCommit)
    const {merges, ctx} = await this.merges()
    const result = await merges.commitTaskMerge(ctx, args.task, flags.message)
    if (this.jsonEnabled()) return result
    this.say(result.message)
    this.say(`commit ${result.commitSha}`)
    return undefined
  }
}
