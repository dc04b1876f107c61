import {Flags} from '@oclif/core'

import {TaskCommand} from '../cli/task-command.js'

export default class Usage extends TaskCommand {
  static override summary = 'Tokens, cost, turns and wall time of the runs of Claude Code, from the store'
  static override description = `Totals of every run of Claude Code that makima recorded (one per process: a task's first run, each resume for a follow-up, each autonomous --continue), grouped by the day a run started (UTC), by repository or by task, with the total of all of them. Tasks removed by history.retentionDays take their runs with them.

The cost is Claude Code's own figure at API prices; on a subscription login (marked ~) it is an estimate, not a bill.`

  static override examples = ['<%= config.bin %> usage', '<%= config.bin %> usage --since 7d --by repo', '<%= config.bin %> usage --since 2026-05-01 --by task --json | jq ".total.costUsd"']

  static override flags = {
    since: Flags.string({description: 'only runs that started since: a duration back from now (7d, 12h, 90m) or a date (2026-05-01, UTC)'}),
    by: Flags.string({options: ['day', 'repo', 'task'], default: 'day', description: 'group by the day a run started, by repository or by task'}),
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(Usage)
    const [{usageReport, sinceFromFlag}, {parseDuration}] = await Promise.all([import('../lib/store/usage-report.js'), import('../lib/tasks/limits/limits.js')])
    const sinceMs = flags.since === undefined ? null : sinceFromFlag(flags.since, parseDuration)
    const store = await this.openStore()
    const report = usageReport(store.db, {sinceMs, by: flags.by as 'day' | 'repo' | 'task'})
    if (this.jsonEnabled()) return report
    if (report.rows.length === 0) {
      this.say(report.since ? `No runs of Claude Code since ${report.since}.` : 'No runs of Claude Code recorded yet.')
      return undefined
    }
    const {reportLines} = await import('../lib/ui/usage-format.js')
    if (report.since) this.say(`Since ${report.since}`)
    for (const line of reportLines(report)) this.say(line)
    return undefined
  }
}
