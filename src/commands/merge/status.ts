import {MergeCommand} from '../../cli/merge-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class MergeStatus extends MergeCommand {
  static override summary = "Show the merge in progress in a task's worktree, if any"
  static override description = 'With --json: {"taskId", "inProgress", "sourceBranch", "conflictedFiles": [...]}. Exit 4 when the task has no worktree.'
  static override examples = ['<%= config.bin %> merge status 1a2b', '<%= config.bin %> merge status 1a2b --json']
  static override args = {task: taskIdArg}

  async run(): Promise<unknown> {
    const {args} = await this.parse(MergeStatus)
    const {merges, store} = await this.merges()
    const result = await merges.mergeStatus(store, args.task)
    if (this.jsonEnabled()) return result
    if (!result.inProgress) {
      this.say('No merge in progress.')
      return undefined
    }
    const n = result.conflictedFiles.length
    this.say(`Merging ${result.sourceBranch}: ${n === 0 ? 'no conflicts left (ready to commit)' : `${n} conflicted file${n === 1 ? '' : 's'}`}`)
    for (const file of result.conflictedFiles) this.say(`  conflict: ${file}`)
    return undefined
  }
}
