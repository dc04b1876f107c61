import {setTimeout as sleep} from 'node:timers/promises'

import {formatReset} from '../../claude/rate-limit.js'
import {MakimaError} from '../../errors.js'
import type {TaskRecord} from '../../store/task-record.js'
import type {TaskHost} from '../host.js'

// Tasks a usage limit of Claude Code ended (failureKind usage_limit, issue 19 §3): `task send`
// resumes one after the reset; --resume-after-limit (limits.resumeAfterLimit) has the process
// that ran it (the attached spawn, the detached runner or the daemon) wait for the reset and
// resume it with CONTINUE_MESSAGE.

/** The follow-up a task resumed after its usage limit gets. */
export const CONTINUE_MESSAGE = 'The usage limit that stopped you has reset. Continue the task where you left off.'
/** After the reset the resume waits this much longer: the API's clock and ours differ a little. */
const RESET_MARGIN_MS = 1000

/** When a usage-limited task's limit resets (epoch ms), or null when it is not one or did not say. */
export function usageLimitResetMs(task: TaskRecord): number | null {
  if (task.state !== 'failed' || task.failureKind !== 'usage_limit' || !task.rateLimitedUntil) return null
  const at = Date.parse(task.rateLimitedUntil)
  return Number.isFinite(at) ? at : null
}

/** `task send` before the reset: refused with the time it resets (INVALID_STATE, exit 4). */
export function refuseBeforeReset(task: TaskRecord, now: number = Date.now()): void {
  const at = usageLimitResetMs(task)
  if (at === null || at <= now) return
  throw new MakimaError(
    'INVALID_STATE',
    `task ${task.shortId} stopped at a usage limit of Claude Code that resets at ${formatReset(at, now)}: send the message after then, or add --resume-after-limit to have it resumed by itself at the reset`,
  )
}

/** The task waits for the reset to resume by itself (--resume-after-limit). */
export function resumesAfterLimit(task: TaskRecord): boolean {
  return task.resumeAfterLimit && usageLimitResetMs(task) !== null
}

/**
 * Wait until the task's usage limit resets, then take a slot for it with the waiting messages
 * (CONTINUE_MESSAGE when none) so the run loop resumes its session. Returns false when there is
 * nothing to resume: this process stops, or the task was resumed or changed meanwhile.
 */
export async function waitForResetAndAcquire(host: TaskHost, taskId: string): Promise<boolean> {
  let announced = false
  for (;;) {
    if (host.stopping || host.abandoning) return false
    const task = host.store.tasks.require(taskId)
    const at = usageLimitResetMs(task)
    if (at === null || !task.resumeAfterLimit) return false
    const wait = at + RESET_MARGIN_MS - Date.now()
    if (!announced) {
      host.progress(taskId, `usage limit: resuming after it resets at ${formatReset(at)} (--resume-after-limit)`)
      announced = true
    }
    if (wait > 0) {
      await sleep(Math.min(wait, 1000))
      continue
    }
    if (host.store.inbox.pendingCount(taskId, 'message') === 0) host.store.inbox.push(taskId, 'message', CONTINUE_MESSAGE)
    try {
      host.acquire(taskId, ['failed'])
      host.progress(taskId, 'usage limit reset: resuming the session')
      return true
    } catch (error) {
      if (error instanceof MakimaError && error.code === 'INVALID_STATE') return false // resumed by someone else meanwhile
      if (!(error instanceof MakimaError) || !error.code.endsWith('CONCURRENCY_LIMIT')) throw error
      await sleep(1000) // every slot taken: the next one that frees
    }
  }
}

/**
 * Run the task here (`runOnce`: the run loop), and again each time --resume-after-limit resumes it
 * after a usage limit's reset; a task that waits for its reset already waits first (TaskManager.run).
 */
export async function runThroughUsageLimits(host: TaskHost, taskId: string, runOnce: () => Promise<TaskRecord>): Promise<TaskRecord> {
  const waiting = (task: TaskRecord) => !host.abandoning && resumesAfterLimit(task)
  if (waiting(host.store.tasks.require(taskId)) && !(await waitForResetAndAcquire(host, taskId))) return host.store.tasks.require(taskId)
  let ended = await runOnce()
  while (waiting(ended) && (await waitForResetAndAcquire(host, taskId))) ended = await runOnce()
  return ended
}
