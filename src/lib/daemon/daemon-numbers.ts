import type {Config} from '../config/types.js'
import type {Store} from '../store/store.js'
import {TASK_STATES, type TaskState} from '../store/task-record.js'

/**
 * The daemon's numbers as the store has them, for every reader alike: `/metrics` (metrics.ts),
 * `makima daemon status --json` and `makima doctor`, so a person without Prometheus sees the same.
 */
export interface DaemonNumbers {
  /** the server's tasks (origin daemon) kept on this machine, by state */
  tasksByState: Record<TaskState, number>
  /** concurrency slots in use (every active task on the machine, CLI ones too) and the cap */
  slots: {used: number; max: number}
  outbox: {messages: number; bytes: number; oldestUnackedAgeSecs: number | null; lastSeq: number; lastAckedSeq: number | null}
  /** the machine's rate-limit hold while it lasts (tasks/rate-hold.ts; until: epoch ms), and the tasks queued meanwhile */
  rateLimit: {untilMs: number; kind: string; source: string; held: number} | null
}

export function daemonNumbers(store: Store, config: Config, now = Date.now()): DaemonNumbers {
  const tasksByState = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>
  const rows = store.db.prepare("SELECT state, count(*) AS n FROM tasks WHERE origin = 'daemon' GROUP BY state").all() as {state: TaskState; n: number}[]
  for (const row of rows) tasksByState[row.state] = row.n
  const oldest = store.outbox.oldestCreatedAt()
  const hold = store.rateLimit.current(now)
  return {
    rateLimit: hold && {untilMs: hold.untilMs, kind: hold.kind, source: hold.source, held: store.tasks.queueLength()},
    tasksByState,
    slots: {used: store.tasks.countActive(), max: config.process.maxConcurrentTasks},
    outbox: {
      ...store.outbox.depth,
      oldestUnackedAgeSecs: oldest === null ? null : Math.max(0, (now - oldest) / 1000),
      lastSeq: store.outbox.lastSeq(),
      lastAckedSeq: store.outbox.lastAckedSeq(),
    },
  }
}
