import type {Counter, Gauge, Histogram, Registry} from 'prom-client'

import type {Config} from '../config/types.js'
import type {Store} from '../store/store.js'
import {TASK_STATES} from '../store/task-record.js'
import type {TaskEvent} from '../tasks/events.js'
import type {DaemonConnection} from './connection.js'
import type {ConnectionState} from './connection-state.js'
import {daemonNumbers} from './daemon-numbers.js'

/** What the metrics read from the running daemon (daemon.ts implements it). */
export interface MetricsSource {
  store: Store
  config: Config
  connection: DaemonConnection
  draining: boolean
  /** seconds the last drain took, or null before any */
  lastDrainSeconds: number | null
  /** when the database last accepted a write from this daemon (ms since the epoch) */
  lastDbWriteAt: number
}

const CONNECTION_STATES: readonly ConnectionState[] = ['idle', 'connecting', 'authenticating', 'connected', 'waiting', 'stopped']
const OUTCOMES = ['completed', 'failed', 'interrupted'] as const

export interface DaemonMetrics {
  registry: Registry
  /** the TaskManager sink that counts tasks started and ended */
  onEvent: (event: TaskEvent) => void
}

/**
 * The daemon's Prometheus metrics (prom-client, loaded only when `--metrics-port` is set). Gauges
 * are read when scraped (daemon-numbers.ts: the numbers `daemon status` and `doctor` show);
 * counters and the duration histogram follow the TaskManager's events. No label carries a task id
 * or anything else unbounded: states, outcomes and connection states only.
 */
export async function createMetrics(source: MetricsSource): Promise<DaemonMetrics> {
  const client = await import('prom-client')
  const registry = new client.Registry()
  client.collectDefaultMetrics({register: registry})
  const registers = [registry]
  const gauge = (name: string, help: string, collect: (g: Gauge) => void, labelNames: string[] = []) =>
    new client.Gauge({
      name,
      help,
      labelNames,
      registers,
      collect(this: Gauge) {
        collect(this)
      },
    })
  const counter = (name: string, help: string, labelNames: string[] = []) => new client.Counter({name, help, labelNames, registers})

  // one reading of the store per scrape, shared by the gauges below (each collects on its own)
  let scraped: ReturnType<typeof daemonNumbers> | undefined
  const numbers = () => {
    if (!scraped) {
      scraped = daemonNumbers(source.store, source.config)
      setImmediate(() => (scraped = undefined))
    }
    return scraped
  }
  gauge(
    'makima_tasks',
    "The server's tasks on this daemon's machine, by state",
    (g) => {
      const {tasksByState} = numbers()
      for (const state of TASK_STATES) g.set({state}, tasksByState[state])
    },
    ['state'],
  )
  gauge('makima_slots_used', 'Concurrency slots in use (every active task on the machine)', (g) => g.set(numbers().slots.used))
  gauge('makima_rate_limited_until_seconds', "When the machine's rate-limit hold lifts, epoch seconds (0: none; new tasks wait until then)", (g) => g.set((numbers().rateLimit?.untilMs ?? 0) / 1000))
  gauge('makima_slots_max', 'The concurrency cap (process.maxConcurrentTasks)', (g) => g.set(source.config.process.maxConcurrentTasks))
  gauge('makima_outbox_messages', 'Messages stored for the server and not yet acknowledged', (g) => g.set(source.store.outbox.depth.messages))
  gauge('makima_outbox_bytes', 'Bytes of the unacknowledged messages', (g) => g.set(source.store.outbox.depth.bytes))
  gauge('makima_outbox_oldest_unacked_age_seconds', 'Age of the oldest unacknowledged message (0 when none)', (g) => g.set(numbers().outbox.oldestUnackedAgeSecs ?? 0))
  gauge(
    'makima_connection_state',
    'The server connection: 1 for the current state',
    (g) => {
      for (const state of CONNECTION_STATES) g.set({state}, source.connection.state === state ? 1 : 0)
    },
    ['state'],
  )
  gauge('makima_connection_reconnects', 'Connections authenticated after the first one, since the daemon started', (g) => g.set(Math.max(0, source.connection.stats.connects - 1)))
  gauge('makima_connection_last_connect_timestamp_seconds', 'When the connection was last authenticated (0: never)', (g) => g.set((source.connection.stats.lastConnectedAt ?? 0) / 1000))
  gauge('makima_messages_sent', 'Messages sent to the server since the daemon started (resends included)', (g) => g.set(source.connection.stats.messagesSent))
  gauge('makima_messages_acked', 'Messages the server acknowledged since the daemon started', (g) => g.set(source.connection.ackedCount))
  gauge('makima_draining', '1 while the daemon drains (SIGTERM)', (g) => g.set(source.draining ? 1 : 0))
  gauge('makima_last_drain_duration_seconds', 'How long the last drain took (0: none yet)', (g) => g.set(source.lastDrainSeconds ?? 0))
  // cost and tokens of the server's tasks by contract (a UUID or "none": bounded, and no path or plan)
  const spend = () =>
    source.store.db
      .prepare(
        `SELECT coalesce(t.contract_id, 'none') AS contract, sum(r.cost_usd) AS cost, sum(r.input_tokens) AS input, sum(r.output_tokens) AS output,
          sum(r.cache_read_tokens) AS cacheRead, sum(r.cache_write_tokens) AS cacheWrite
         FROM runs r JOIN tasks t ON t.id = r.task_id WHERE t.origin = 'daemon' GROUP BY contract`,
      )
      .all() as {contract: string; cost: number; input: number; output: number; cacheRead: number; cacheWrite: number}[]
  gauge(
    'makima_cost_usd',
    "Claude Code's reported cost of the server's tasks kept on this volume, by contract (an estimate on a subscription login)",
    (g) => {
      for (const row of spend()) g.set({contract: row.contract}, row.cost ?? 0)
    },
    ['contract'],
  )
  gauge(
    'makima_tokens',
    "Tokens of the server's tasks kept on this volume, by contract and kind",
    (g) => {
      for (const row of spend()) {
        g.set({contract: row.contract, kind: 'input'}, row.input ?? 0)
        g.set({contract: row.contract, kind: 'output'}, row.output ?? 0)
        g.set({contract: row.contract, kind: 'cache_read'}, row.cacheRead ?? 0)
        g.set({contract: row.contract, kind: 'cache_write'}, row.cacheWrite ?? 0)
      }
    },
    ['contract', 'kind'],
  )
  gauge('makima_database_last_write_age_seconds', 'Seconds since the database last accepted a write from the daemon', (g) => g.set((Date.now() - source.lastDbWriteAt) / 1000))

  const started = counter('makima_tasks_started_total', 'Tasks that started running (Claude Code started) on this daemon')
  const ended: Record<(typeof OUTCOMES)[number], Counter> = {
    completed: counter('makima_tasks_completed_total', 'Tasks that completed'),
    failed: counter('makima_tasks_failed_total', 'Tasks that failed'),
    interrupted: counter('makima_tasks_interrupted_total', 'Tasks that were interrupted (drained ones included)'),
  }
  const duration: Histogram = new client.Histogram({
    name: 'makima_task_duration_seconds',
    help: 'Wall time of a task from its start to its end, by outcome',
    labelNames: ['outcome'],
    buckets: [10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400],
    registers,
  })
  const onEvent = (event: TaskEvent): void => {
    if ((event.type !== 'status' && event.type !== 'complete') || event.task.origin !== 'daemon') return
    if (event.type === 'status' && event.newState === 'running' && event.oldState === 'starting') started.inc()
    if (event.type === 'complete') {
      const outcome = event.task.state as (typeof OUTCOMES)[number]
      if (!OUTCOMES.includes(outcome)) return
      ended[outcome].inc()
      if (event.task.startedAt && event.task.completedAt) {
        duration.observe({outcome}, Math.max(0, (Date.parse(event.task.completedAt) - Date.parse(event.task.startedAt)) / 1000))
      }
    }
  }
  return {registry, onEvent}
}
