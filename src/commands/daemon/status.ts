import {MakimaCommand} from '../../cli/base-command.js'

export default class DaemonStatus extends MakimaCommand {
  static override summary = "Show the daemon's state: connection, daemon id, active tasks, outbox depth"
  static override examples = ['<%= config.bin %> daemon status', '<%= config.bin %> daemon status --json']

  async run(): Promise<unknown> {
    const config = this.makimaConfig()
    const {Store} = await import('../../lib/store/store.js')
    const {isPidAlive, isSameProcessAlive} = await import('../../lib/os/process-table.js')
    const {ACTIVE_STATES} = await import('../../lib/store/task-record.js')
    const {daemonNumbers} = await import('../../lib/daemon/daemon-numbers.js')
    const store = Store.open(config.localDb.path)
    try {
      // the pid with its start time (a reused pid is not the daemon); older databases: the pid alone
      const claim = JSON.parse(store.getMeta('daemon.process') ?? 'null') as {pid: number; start: string | null} | null
      const pid = claim?.pid ?? Number(store.getMeta('daemon.pid') ?? 0)
      const running = pid > 0 && (claim ? isSameProcessAlive(claim.pid, claim.start) : isPidAlive(pid))
      const last = JSON.parse(store.getMeta('daemon.state') ?? 'null') as {state: string; at: string; pid?: number} | null
      // a state written by an earlier daemon process says nothing about this one (still recovering)
      const current = last && last.pid === pid ? last : null
      // the numbers /metrics serves (daemon-numbers.ts), for a person without Prometheus
      const numbers = daemonNumbers(store, config)
      const status = {
        running,
        pid: running ? pid : null,
        connection: running ? (current?.state ?? 'starting') : 'not running',
        since: running ? (current?.at ?? null) : null,
        daemonId: store.getMeta('daemon.id') ?? null,
        serverUrl: config.server.url,
        activeTasks: store.tasks
          .list({states: ACTIVE_STATES})
          .filter((t) => t.origin === 'daemon')
          .map((t) => ({id: t.id, state: t.state, name: t.name})),
        tasksByState: numbers.tasksByState,
        slots: numbers.slots,
        outbox: numbers.outbox,
        rateLimitedUntil: numbers.rateLimit ? new Date(numbers.rateLimit.untilMs).toISOString() : null,
      }
      if (this.jsonEnabled()) return status
      this.say(`daemon       ${running ? `running (pid ${pid})` : 'not running'}`)
      this.say(`connection   ${status.connection}${status.since ? ` since ${status.since}` : ''}`)
      this.say(`server       ${status.serverUrl}`)
      this.say(`daemon id    ${status.daemonId ?? '-'}`)
      const oldest = status.outbox.oldestUnackedAgeSecs === null ? '' : `, oldest ${status.outbox.oldestUnackedAgeSecs.toFixed(0)}s old`
      this.say(`outbox       ${status.outbox.messages} unacknowledged (${status.outbox.bytes} bytes${oldest}), last seq ${status.outbox.lastSeq}, acked ${status.outbox.lastAckedSeq ?? '-'}`)
      this.say(`slots        ${status.slots.used} of ${status.slots.max} in use`)
      const {holdLine} = await import('../../lib/ui/rate-limit-format.js')
      const hold = numbers.rateLimit && holdLine({...numbers.rateLimit, source: numbers.rateLimit.source as never, taskId: null, updatedMs: 0}, numbers.rateLimit.held)
      if (hold) this.say(`rate limit   ${hold}; spawnTask is answered CONCURRENCY_LIMIT with retryAfter until then`)
      this.say(`tasks        ${status.activeTasks.length} active`)
      for (const t of status.activeTasks) this.say(`  ${t.id.slice(0, 8)}  ${t.state.padEnd(12)} ${t.name}`)
      return undefined
    } finally {
      store.close()
    }
  }
}
