import {isSameProcessAlive} from '../os/process-table.js'
import type {TaskPatch, TaskRecord, TaskState} from '../store/task-record.js'
import type {StateChange} from '../store/task-store.js'
import type {TaskHost} from './host.js'
import {currentHold, holdText} from './rate-hold.js'

// The machine's queue of tasks waiting for a slot (task spawn/start --queue): the store decides
// (task-store.ts admitOrQueue/promoteQueued, in the IMMEDIATE transaction of the slots); these
// are the TaskManager's side of it.

/**
 * Take a slot, or record the task as `queued` when the cap is full, others already wait, or a rate
 * limit holds admission (rate-hold.ts; the task's rateLimitedUntil says until when).
 */
export function queueOrTake(m: TaskHost, task: TaskRecord | string, from: readonly TaskState[], waitHere: boolean): TaskRecord {
  const hold = currentHold(m.store)
  const owner: TaskPatch = {...(waitHere ? m.runnerPatch() : {runnerPid: null, runnerStart: null}), rateLimitedUntil: hold ? new Date(hold.untilMs).toISOString() : null}
  const admitted = m.changed(m.store.tasks.admitOrQueue(task, m.caps(), from, {...m.runnerPatch(), rateLimitedUntil: null}, owner, hold !== null))
  if (admitted.state !== 'queued') return admitted
  if (hold) m.progress(admitted.id, `held: ${holdText(hold)}; it starts after that`)
  if (waitHere) m.queuedHere.add(admitted.id)
  m.promoteQueued() // slots may be free with a queue nobody has promoted yet
  // Detached, a task promoted just now already has its runner: the caller only prints the id.
  return waitHere ? m.store.tasks.require(admitted.id) : admitted
}

/**
 * Start the queued tasks that fit in the free slots, oldest first (task-store.ts promoteQueued).
 * A promoted task this process is waiting for is left to that wait (its state is now
 * `initializing`); a detached runner (`task run`) runs the others itself, one process already up
 * (no start-up between a task's end and the next one's start); any other process starts a
 * detached runner for each, so a queued task runs even when the process that queued it is gone.
 * Called whenever a slot may have freed: finish, reap, and the queue waits' polls. During a
 * rate-limit hold nothing is promoted (wakerForHold). Errors are noted, never thrown.
 */
export function promoteQueued(m: TaskHost): TaskRecord[] {
  if (currentHold(m.store)) {
    // rate limited: nothing starts before the reset, and no slot may free then: make sure someone waits for it
    wakerForHold(m)
    return []
  }
  let changes: StateChange[]
  try {
    changes = m.store.tasks.promoteQueued(m.caps(), {...(m.runnerPatch() as {runnerPid: number; runnerStart: string | null}), rateLimitedUntil: null}, (t) =>
      Boolean(t.runnerPid && isSameProcessAlive(t.runnerPid, t.runnerStart)),
    )
  } catch {
    return [] // busy or closed: the next slot to free tries again
  }
  const promoted: TaskRecord[] = []
  for (const change of changes) {
    const task = m.changed(change)
    promoted.push(task)
    if (m.queuedHere.delete(task.id)) continue
    try {
      if (m.hostsQueued) {
        hostQueuedTask(m, task.id)
        continue
      }
      m.progress(task.id, 'a slot is free: starting (queued task)')
      m.startDetachedRunner(task.id)
    } catch (error) {
      m.finish(task.id, 'failed', {error: `could not start a runner for the queued task: ${(error as Error).message}`})
    }
  }
  return promoted
}

/**
 * Run a promoted task in this runner process (its runnerPid is already this process: the store's
 * promotion wrote it). The runner's command waits for these before it exits (whenHostedDone).
 */
function hostQueuedTask(m: TaskHost, taskId: string): void {
  m.progress(taskId, `a slot is free: starting (queued task, in runner pid ${process.pid})`)
  const run: Promise<unknown> = m
    .run(taskId)
    .catch((error: Error) => {
      try {
        m.finish(taskId, 'failed', {error: `the runner could not run the queued task: ${error.message}`})
      } catch {
        // already ended
      }
    })
    .finally(() => m.hosted.delete(run))
  m.hosted.add(run)
}

/** Wait until every queued task this runner took on (and those they let in) has ended. */
export async function whenHostedDone(m: TaskHost): Promise<void> {
  while (m.hosted.size > 0) await Promise.allSettled([...m.hosted])
}

/**
 * During a rate-limit hold, a queue none of whose tasks has a live owner (every slot freed while
 * held, say) would wait for the next slot to free after the reset, maybe forever: the first such
 * task gets a detached runner of its own, which waits in the queue (task run) and at the reset
 * promotes what fits, starting runners for the others. Errors are noted, never thrown.
 */
function wakerForHold(m: TaskHost): void {
  try {
    const queue = m.store.tasks.queue()
    if (queue.length === 0 || queue.some((t) => t.runnerPid !== null && isSameProcessAlive(t.runnerPid, t.runnerStart))) return
    m.startDetachedRunner(queue[0].id)
  } catch {
    // busy: the next call tries again
  }
}
