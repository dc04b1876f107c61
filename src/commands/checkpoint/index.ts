import {Flags} from '@oclif/core'

import {TaskCommand} from '../../cli/task-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class Checkpoint extends TaskCommand {
  static override summary = "Commit a task's worktree as a checkpoint (a real commit on the task branch)"
  static override description = `Commits every change in the task's worktree (tracked changes and untracked files; ignored files are left out) on the task branch, numbered per task (checkpoint list shows them). Exit 1 when there is nothing to commit, 4 when the task has no worktree (not started, cleaned up, or no repository). With --json: {"success", "commitSha", "branchName", "checkpointNumber", "filesChanged": [{"action", "path"}], "linesAdded", "linesRemoved", "message"}; nothing to commit gives {"success": false, "message"}.`
  static override examples = ['<%= config.bin %> checkpoint 1a2b -m "parser works"', '<%= config.bin %> checkpoint 1a2b --json | jq -r .commitSha']
  static override args = {task: taskIdArg}
  static override flags = {message: Flags.string({char: 'm', description: 'the commit message (default: "makima checkpoint <n> of task <id>")'})}

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(Checkpoint)
    const config = this.makimaConfig()
    const store = await this.openStore(config)
    const {reapStaleTasks} = await import('../../lib/tasks/run/stale-runners.js')
    reapStaleTasks(store)
    const {createCheckpoint} = await import('../../lib/tasks/checkpoints/checkpoints.js')
    const {taskId: _taskId, ...result} = await createCheckpoint(store, config, store.tasks.resolve(args.task), {message: flags.message})
    if (this.jsonEnabled()) this.logJson(result)
    if (!result.success) {
      this.note(`Error: ${result.message}`)
      return this.exit(1)
    }
    const files = result.filesChanged ?? []
    this.say(`Checkpoint ${result.checkpointNumber}: ${result.commitSha} on ${result.branchName}`)
    this.say(`${files.length} file${files.length === 1 ? '' : 's'} changed, +${result.linesAdded} -${result.linesRemoved}`)
    for (const file of files) this.say(`  ${file.action.padEnd(8)} ${file.path}`)
    return undefined
  }
}
