import {Args} from '@oclif/core'

import {TaskCommand} from '../../cli/task-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class TaskClone extends TaskCommand {
  static override summary = "Copy a task's worktree to a new directory as an independent git repository"
  static override description = `Clones the task's repository into <dir> with the task branch checked out at the worktree's HEAD (so the history comes along), then applies the worktree's uncommitted changes and untracked files on top, uncommitted as they were. Ignored files are not copied. <dir> must not exist or be empty (exit 2 otherwise). With --json it prints {"taskId", "success", "message", "targetDir"}.`

  static override examples = ['<%= config.bin %> task clone 1a2b ~/src/feature-copy']
  static override args = {task: taskIdArg, dir: Args.string({required: true, description: 'the new directory (created; may start with ~)'})}

  async run(): Promise<unknown> {
    const {args} = await this.parse(TaskClone)
    const store = await this.openStore()
    const task = store.tasks.resolve(args.task)
    const path = await import('node:path')
    const {expandHome} = await import('../../lib/config/load.js')
    const {cloneWorktree} = await import('../../lib/tasks/workspace/repo-ops.js')
    const result = await cloneWorktree(task, path.resolve(expandHome(args.dir)))
    if (this.jsonEnabled()) this.logJson(result)
    else if (result.success) this.say(result.message)
    else this.note(`Error: ${result.message}`)
    if (!result.success) this.exit(1)
    return undefined
  }
}
