import {Args} from '@oclif/core'

import {MergeCommand} from '../../cli/merge-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class MergeStart extends MergeCommand {
  static override summary = "Merge a branch into a task's worktree (no fast-forward)"
  static override description = `A clean merge is committed at once (exit 0, the commit sha is printed). With conflicts the merge is left in progress, the conflicted files are listed and the exit code is 1: resolve them (merge resolve), then merge commit, or merge abort. Exit 2 for an invalid branch name, 3 when the branch does not exist, 4 when a merge is already in progress or uncommitted changes in the worktree would be overwritten. With --json: {"taskId", "success", "message", "commitSha"?, "conflicts"?}.`
  static override examples = ['<%= config.bin %> merge start 1a2b makima/3c4d5e6f-add-parser', '<%= config.bin %> merge start 1a2b makima/3c4d5e6f-add-parser --json']
  static override args = {
    task: taskIdArg,
    sourceBranch: Args.string({name: 'sourceBranch', required: true, description: 'the local branch to merge (e.g. a subtask branch makima/<id>-<name>)'}),
  }

  async run(): Promise<unknown> {
    const {args} = await this.parse(MergeStart)
    const {merges, ctx} = await this.merges()
    const result = await merges.startMerge(ctx, args.task, args.sourceBranch)
    if (this.jsonEnabled()) this.logJson(result)
    if (result.success) {
      this.say(result.message)
      if (result.commitSha) this.say(`commit ${result.commitSha}`)
      return undefined
    }
    this.say(result.message)
    for (const file of result.conflicts ?? []) this.say(`  conflict: ${file}`)
    this.note(
      `The merge is in progress. Resolve each file (makima merge resolve ${args.task} <file> --strategy ours|theirs, or edit and git add it), then makima merge commit ${args.task} -m <message>; or makima merge abort ${args.task}.`,
    )
    return this.exit(1)
  }
}
