import {MergeCommand} from '../../cli/merge-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class MergeCheck extends MergeCommand {
  static override summary = 'Check that every subtask branch is merged into the task or skipped'
  static override description = `Exit 0 when the task can complete, 1 when some subtask branch is neither merged into the task's HEAD nor skipped (they are listed; a subtask still running counts as unmerged). With --json: {"taskId", "canComplete", "unmergedBranches", "mergedCount", "skippedCount"}.`
  static override examples = ['<%= config.bin %> merge check 1a2b', '<%= config.bin %> merge check 1a2b --json']
  static override args = {task: taskIdArg}

  async run(): Promise<unknown> {
    const {args} = await this.parse(MergeCheck)
    const {merges, store} = await this.merges()
    const result = await merges.checkMergeComplete(store, args.task)
    if (this.jsonEnabled()) this.logJson(result)
    const counts = `${result.mergedCount} merged, ${result.skippedCount} skipped`
    if (result.canComplete) {
      this.say(`Can complete: ${counts}.`)
      return undefined
    }
    this.say(`Cannot complete (${counts}); not merged:`)
    for (const branch of result.unmergedBranches) this.say(`  ${branch}`)
    return this.exit(1)
  }
}
