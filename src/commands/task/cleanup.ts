import {Flags} from '@oclif/core'

import {TaskCommand} from '../../cli/task-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class TaskCleanup extends TaskCommand {
  static override summary = "Remove a finished task's worktree (uncommitted work is kept as a snapshot first)"
  static override description = `Refuses a task that is still active (exit 4). When the worktree has uncommitted or untracked changes they are first stored as a final snapshot on refs/makima/checkpoints/<task>/<n> (with a patch in the database) and the command prints how to restore them. The branch is deleted only with --delete-branch and when it is merged into the base branch, or with --force.`
  static override examples = ['<%= config.bin %> task cleanup 1a2b', '<%= config.bin %> task cleanup 1a2b --delete-branch']
  static override args = {task: taskIdArg}
  static override flags = {
    'delete-branch': Flags.boolean({description: 'also delete the task branch when it is merged'}),
    force: Flags.boolean({description: 'delete the branch even when unmerged; delete files of a task without repository'}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(TaskCleanup)
    const manager = await this.taskManager()
    const {cleanupTask} = await import('../../lib/tasks/workspace/cleanup.js')
    const result = await cleanupTask(manager, args.task, {deleteBranch: flags['delete-branch'], force: flags.force})
    if (this.jsonEnabled()) return result
    this.say(result.message)
    return undefined
  }
}
