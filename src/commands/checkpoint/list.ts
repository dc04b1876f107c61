import {TaskCommand} from '../../cli/task-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class CheckpointList extends TaskCommand {
  static override summary = "List a task's checkpoints: commits (makima checkpoint) and snapshots (heartbeat, cleanup)"
  static override description = `Commits and snapshots are numbered on their own, 1, 2, … per task. A snapshot lives on the side ref refs/makima/checkpoints/<task>/<n> and, unless it was too large, as a patch in the database (checkpoint restore). With --json: an array of {"number", "kind", "commitSha", "ref", "branch", "message", "filesCount", "linesAdded", "linesRemoved", "hasPatch", "patchBytes", "patchBaseSha", "createdAt"}.`
  static override examples = ['<%= config.bin %> checkpoint list 1a2b', '<%= config.bin %> checkpoint list 1a2b --json']
  static override args = {task: taskIdArg}

  async run(): Promise<unknown> {
    const {args} = await this.parse(CheckpointList)
    const store = await this.openStore()
    const {listCheckpoints} = await import('../../lib/tasks/checkpoints/checkpoints.js')
    const task = store.tasks.resolve(args.task)
    const list = listCheckpoints(store, task)
    if (this.jsonEnabled()) return list
    if (list.length === 0) {
      this.say(`Task ${task.shortId} has no checkpoints.`)
      return undefined
    }
    this.say(`${'KIND'.padEnd(9)}${'#'.padStart(3)}  ${'COMMIT'.padEnd(9)} ${'FILES'.padStart(5)}  ${'PATCH'.padEnd(6)} ${'CREATED'.padEnd(24)} MESSAGE`)
    for (const cp of list) {
      const patch = cp.kind === 'commit' ? '-' : cp.hasPatch ? 'yes' : 'no'
      this.say(
        `${cp.kind.padEnd(9)}${String(cp.number).padStart(3)}  ${(cp.commitSha ?? '').slice(0, 8).padEnd(9)} ${String(cp.filesCount ?? '').padStart(5)}  ${patch.padEnd(6)} ${cp.createdAt.padEnd(24)} ${cp.message ?? ''}`,
      )
    }
    return undefined
  }
}
