import {Errors, Flags} from '@oclif/core'

import {TaskCommand} from '../cli/task-command.js'
import {cliEntry} from '../lib/package-root.js'

export default class Top extends TaskCommand {
  static override summary = 'A live view of tasks: state, age, CPU and memory, last output line; keys to pause, resume, interrupt and read logs'
  static override description = `In a terminal the view fills the screen and refreshes every --interval seconds: ↑/↓ (or j/k) select a task, p pauses it, r resumes it, i interrupts it (after a y/n question), l or Enter shows its log as "makima task logs -f" does (Ctrl-C returns to the view), q quits.

CPU is the share of one core used since the previous refresh, and RSS the resident memory, both summed over the task's processes: Claude Code and every process it started. COST and TURNS are the task's usage so far, all its runs of Claude Code together (a cost marked ~ is an estimate at API prices: a subscription login).

When stdout is not a terminal (a pipe, a file, CI) one plain table is printed instead; --json prints the rows as JSON.`
  static override examples = ['<%= config.bin %> top', '<%= config.bin %> top --all --interval 5', '<%= config.bin %> top | grep running', '<%= config.bin %> top --json']
  static override flags = {
    all: Flags.boolean({char: 'a', description: 'include completed, failed and interrupted tasks'}),
    interval: Flags.custom<number>({
      char: 'n',
      default: 2,
      description: 'seconds between refreshes (0.2 to 3600)',
      async parse(input) {
        const secs = Number(input)
        if (!Number.isFinite(secs) || secs < 0.2 || secs > 3600) throw new Errors.CLIError(`--interval must be a number of seconds from 0.2 to 3600, not ${JSON.stringify(input)}`)
        return secs
      },
    })(),
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(Top)
    const config = this.makimaConfig()
    const store = await this.openStore(config)
    const {reapStaleTasks} = await import('../lib/tasks/run/stale-runners.js')
    const {ProcessUsageSampler} = await import('../lib/os/process-usage.js')
    const {collectTopRows} = await import('../lib/ui/top-rows.js')
    const sampler = new ProcessUsageSampler()
    const rows = () => {
      reapStaleTasks(store)
      return collectTopRows(store, sampler, {all: flags.all})
    }

    if (this.jsonEnabled() || !interactive()) {
      // CPU% is measured between two samples (only worth the wait when something runs).
      let snapshot = rows()
      if (snapshot.some((row) => row.processes > 0)) {
        await new Promise((resolve) => setTimeout(resolve, SNAPSHOT_SAMPLE_MS))
        snapshot = rows()
      }
      if (this.jsonEnabled()) return snapshot
      const {renderTable} = await import('../lib/ui/top-view.js')
      if (snapshot.length === 0) {
        this.say(flags.all ? 'No tasks.' : 'No active tasks (use --all to include finished ones).')
        return undefined
      }
      const width = process.stdout.columns || Number(process.env.COLUMNS) || SNAPSHOT_WIDTH
      const {header, lines} = renderTable(snapshot, {width})
      for (const line of [header, ...lines]) this.say(line)
      if (snapshot.some((row) => row.costEstimated)) this.say(`~ ${(await import('../lib/ui/usage-format.js')).ESTIMATE_NOTE}`)
      return undefined
    }

    const manager = await this.taskManager()
    const {TopScreen} = await import('../lib/ui/top-screen.js')
    const screen = new TopScreen({
      input: process.stdin,
      output: process.stdout,
      intervalSecs: flags.interval,
      all: flags.all,
      actions: {
        rows,
        pause: async (id) => (await manager.pause(id)).state,
        resume: async (id) => (await manager.resume(id)).state,
        interrupt: async (id) => (await manager.interrupt(id)).state,
        logsCommand: [process.execPath, cliEntry(), 'task', 'logs', '-f'],
      },
    })
    const code = await screen.run()
    if (code !== 0) this.exit(code)
    return undefined
  }
}

/** Time between the two samples of a snapshot, so it can show CPU%. */
const SNAPSHOT_SAMPLE_MS = 500
/** Line width of a snapshot written to a pipe or file (no terminal to ask). */
const SNAPSHOT_WIDTH = 200

/** A terminal on both ends and not CI: the live view; otherwise one snapshot. */
function interactive(): boolean {
  const ci = process.env.CI
  if (ci && ci !== 'false' && ci !== '0') return false
  return Boolean(process.stdout.isTTY && process.stdin.isTTY)
}
