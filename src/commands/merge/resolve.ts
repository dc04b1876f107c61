import {Args, Flags} from '@oclif/core'

import {MergeCommand} from '../../cli/merge-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class MergeResolve extends MergeCommand {
  static override summary = 'Resolve a conflicted file by taking our or their version'
  static override description = `ours = the task's version, theirs = the merged branch's version; the file is then staged. The file is relative to the task's worktree and must stay inside it (exit 2 otherwise); exit 4 when no merge is in progress or the file is not conflicted. With --json: {"taskId", "success", "message", "conflicts": [files still conflicted]}.`
  static override examples = ['<%= config.bin %> merge resolve 1a2b src/parser.ts --strategy theirs']
  static override args = {
    task: taskIdArg,
    file: Args.string({name: 'file', required: true, description: "the conflicted file, relative to the task's worktree"}),
  }
  static override flags = {
    strategy: Flags.string({options: ['ours', 'theirs'], required: true, description: "whose version to keep: ours (the task's) or theirs (the merged branch's)"}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(MergeResolve)
    const {merges, ctx} = await this.merges()
    const result = await merges.resolveMergeConflict(ctx, args.task, args.file, flags.strategy)
    if (this.jsonEnabled()) return result
    this.say(result.message)
    return undefined
  }
}
