import {formatReset} from '../claude/rate-limit.js'
import {MakimaError} from '../errors.js'
import type {RateLimitHold} from '../store/rate-limit-store.js'
import type {Store} from '../store/store.js'

// Admission during a rate limit (issue 19 §3): while the machine's hold (store/rate-limit-store.ts)
// lies in the future, task spawn/start record new tasks as `queued` instead of starting them, the
// queue is not promoted, and the daemon's spawnTask is answered CONCURRENCY_LIMIT with
// `retryAfter`. Running tasks are left to Claude Code's own retries.

/** The hold now, or null (also when the store cannot be read: a hold never blocks by accident). */
export function currentHold(store: Store, now: number = Date.now()): RateLimitHold | null {
  try {
    return store.rateLimit.current(now)
  } catch {
    return null
  }
}

/** "rate limited until 15:00 (five_hour)" */
export function holdText(hold: RateLimitHold, now: number = Date.now()): string {
  return `rate limited until ${formatReset(hold.untilMs, now)} (${hold.kind})`
}

/** What the daemon answers a spawnTask during a hold: CONCURRENCY_LIMIT, as for a full cap, with retryAfter (seconds). */
export function heldError(hold: RateLimitHold, now: number = Date.now()): MakimaError {
  const retryAfter = Math.max(1, Math.ceil((hold.untilMs - now) / 1000))
  return new MakimaError('CONCURRENCY_LIMIT', `${holdText(hold, now)}: Claude Code's API refuses new work until then; try again in ${retryAfter}s`, {
    details: {retryAfter, rateLimitedUntil: new Date(hold.untilMs).toISOString()},
  })
}

/** Throws heldError while the machine is held (TaskManager.admit: the daemon's spawnTask). */
export function refuseWhileHeld(store: Store): void {
  const hold = currentHold(store)
  if (hold) throw heldError(hold)
}
