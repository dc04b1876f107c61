import {Flags} from '@oclif/core'

import {TaskCommand} from '../../cli/task-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class TaskDiff extends TaskCommand {
  static override summary = "Show a task's work as a diff against the merge-base with its base branch"
  static override description = `Committed work, the working tree and untracked files (shown as added files) against the merge-base of the task branch with its base branch. Binary files are included as git binary patches, so the output applies with git apply. After cleanup it shows the task branch with the final snapshot's uncommitted work. Exit 4 when the task has no repository or no worktree yet. With --json: {"taskId", "success", "diff"}.`
  static override examples = ['<%= config.bin %> task diff 1a2b', '<%= config.bin %> task diff 1a2b --stat', '<%= config.bin %> task diff 1a2b | git apply']
  static override args = {task: taskIdArg}
  static override flags = {stat: Flags.boolean({description: 'print a diffstat instead of the diff'})}

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(TaskDiff)
    const store = await this.openStore()
    const {computeTaskDiff} = await import('../../lib/tasks/workspace/diff.js')
    const task = store.tasks.resolve(args.task)
    const result = await computeTaskDiff(store, task, {stat: flags.stat})
    if (result.note) this.note(result.note)
    if (this.jsonEnabled()) return {taskId: task.id, success: true, diff: result.diff}
    process.stdout.write(result.diff)
    return undefined
  }
}
