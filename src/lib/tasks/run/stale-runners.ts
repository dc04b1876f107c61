import type {Store} from '../../store/store.js'
import {ACTIVE_STATES, type TaskRecord} from '../../store/task-record.js'
import {isSameProcessAlive} from '../../os/process-table.js'
import {findTaskProcesses, signalAll} from '../../os/task-processes.js'

/**
 * A runner that died (its pid is gone, or reused by another program) leaves its task active in
 * the store. Whoever notices first marks it interrupted with the reason, ends what is left of its
 * processes, and flags daemon tasks for the daemon's recovery report (docs/design.md).
 */
export function reapStaleTasks(store: Store, onReaped?: (task: TaskRecord) => void): TaskRecord[] {
  const reaped: TaskRecord[] = []
  for (const task of store.tasks.list({states: ACTIVE_STATES})) {
    if (!task.runnerPid || isSameProcessAlive(task.runnerPid, task.runnerStart)) continue
    let updated: TaskRecord
    try {
      updated = store.tasks.transition(task.id, ACTIVE_STATES, 'interrupted', {
        error: `runner (pid ${task.runnerPid}) exited unexpectedly`,
        pid: null,
        completedAt: new Date().toISOString(),
        needsRecovery: task.origin === 'daemon',
      }).task
    } catch {
      continue // another process got there first
    }
    const runners = new Set(store.tasks.list({states: ACTIVE_STATES}).flatMap((t) => (t.runnerPid ? [t.runnerPid] : [])))
    signalAll(findTaskProcesses(task.id, task.pid, runners), 'SIGKILL')
    reaped.push(updated)
    onReaped?.(updated)
  }
  return reaped
}
