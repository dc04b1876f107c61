import {MergeCommand} from '../../cli/merge-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class MergeBranches extends MergeCommand {
  static override summary = "List the task branches of a task's repository, merged or not"
  static override description = `Every makima/* branch of the repository except the task's own: the task it belongs to (when makima knows it), whether it is merged into the task's HEAD, and its last commit. With --json: {"taskId", "branches": [{"name", "taskId", "isMerged", "lastCommit", "lastCommitMessage"}]}. Exit 4 when the task has no worktree.`
  static override examples = ['<%= config.bin %> merge branches 1a2b', "<%= config.bin %> merge branches 1a2b --json | jq -r '.branches[] | select(.isMerged | not) | .name'"]
  static override args = {task: taskIdArg}

  async run(): Promise<unknown> {
    const {args} = await this.parse(MergeBranches)
    const {merges, store} = await this.merges()
    const result = await merges.listTaskBranches(store, args.task)
    if (this.jsonEnabled()) return result
    if (result.branches.length === 0) this.say("No task branches besides this task's own.")
    for (const b of result.branches) {
      const owner = b.taskId ? b.taskId.slice(0, 8) : '-'.padEnd(8)
      this.say(`${b.isMerged ? 'merged  ' : 'unmerged'}  ${owner}  ${b.lastCommit.slice(0, 8)}  ${b.name}  ${b.lastCommitMessage}`)
    }
    return undefined
  }
}
