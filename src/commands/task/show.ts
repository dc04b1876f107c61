import {TaskCommand} from '../../cli/task-command.js'
import {taskIdArg} from '../../cli/task-flags.js'
import {rateLimitLine} from '../../lib/ui/rate-limit-format.js'

export default class TaskShow extends TaskCommand {
  static override summary = 'Show one task'
  static override description =
    "With its usage: cost, turns, wall time and tokens of all its runs of Claude Code together, then one line per run. On a subscription login the cost is Claude Code's estimate at API prices."

  static override examples = ['<%= config.bin %> task show 1a2b', '<%= config.bin %> task show 1a2b --json | jq -r .worktreePath', '<%= config.bin %> task show 1a2b --json | jq .usage.costUsd']
  static override args = {task: taskIdArg}

  async run(): Promise<unknown> {
    const {args} = await this.parse(TaskShow)
    const store = await this.openStore()
    const {reapStaleTasks} = await import('../../lib/tasks/run/stale-runners.js')
    reapStaleTasks(store)
    const {taskJson} = await import('../../lib/store/task-json.js')
    const {diskUsage, formatBytes} = await import('../../lib/os/disk-usage.js')
    const record = taskJson(store, store.tasks.resolve(args.task))
    // what removing the worktree frees (du of the worktree, not of the shared object store)
    const task = {...record, worktreeBytes: record.worktreePath ? diskUsage(record.worktreePath) : null}
    if (this.jsonEnabled()) return task
    const rows: [string, unknown][] = [
      ['id', task.id],
      ['name', task.name],
      ['state', task.state],
      ['error', task.error],
      ['queue', task.queuePosition === null ? null : `${task.queuePosition - 1} ahead`],
      ['rate limit', rateLimitLine(task)],
      ['repo', task.repoSource],
      ['base branch', task.baseBranch],
      ['branch', task.branch],
      ['worktree', task.worktreePath],
      ['disk', task.worktreeBytes === null ? null : formatBytes(task.worktreeBytes)],
      ['port', task.taskPort],
      ['base sha', task.baseSha],
      ['parent', task.parentTaskId],
      ['pid', task.pid],
      ['session', task.sessionId],
      ['created', task.createdAt],
      ['started', task.startedAt],
      ['ended', task.completedAt],
      ['origin', task.origin],
    ]
    const {runLines, usageRows} = await import('../../lib/ui/usage-format.js')
    rows.push(...usageRows(task.usage, task.limits))
    for (const [key, value] of rows) if (value !== null && value !== undefined) this.say(`${key.padEnd(12)} ${value}`)
    if (task.usage.runs > 0)
      this.say(
        `runs\n${runLines(store.usage.runs(task.id))
          .map((l) => `  ${l}`)
          .join('\n')}`,
      )
    this.say(`plan\n${task.plan.replace(/^/gm, '  ')}`)
    return undefined
  }
}
