import type {Config} from '../config/types.js'
import type {Store} from '../store/store.js'
import type {TaskRecord} from '../store/task-record.js'
import type {TaskEventSink} from './events.js'

export interface HeartbeatContext {
  config: Config
  store: Store
  emit: TaskEventSink
  progress: (message: string) => void
}

export interface Heartbeat {
  /** stop the timer and wait for a snapshot in progress */
  stop(): Promise<void>
}

/**
 * Heartbeat checkpoints while a task runs (every process.heartbeatCommitIntervalSecs; 0 = off):
 * snapshots on side refs with their patch in the store (see git/snapshot.ts).
 */
export function startHeartbeat(_task: TaskRecord, _ctx: HeartbeatContext): Heartbeat {
  return {stop: async () => undefined}
}
