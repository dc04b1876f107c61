import {formatReset} from '../claude/rate-limit.js'
import type {RateLimitHold} from '../store/rate-limit-store.js'
import type {TaskJson} from '../store/task-record.js'

/**
 * The rate-limit line of `task show` and `top` (issue 19 §3), or null: "held: rate limited until
 * 15:00" for a queued task waiting out the machine's hold, "usage limit: resets at 15:00 (resumes
 * by itself)" for a task a usage limit ended.
 */
export function rateLimitLine(task: Pick<TaskJson, 'state' | 'failureKind' | 'rateLimitedUntil' | 'resumeAfterLimit'>, now: number = Date.now()): string | null {
  if (!task.rateLimitedUntil) return null
  const at = Date.parse(task.rateLimitedUntil)
  if (task.state === 'queued') return at > now ? `held: rate limited until ${formatReset(at, now)}` : null
  if (task.failureKind !== 'usage_limit') return null
  const then = task.resumeAfterLimit ? 'resumes by itself then' : 'resume with task send'
  return at > now ? `usage limit: resets at ${formatReset(at, now)} (${then})` : `usage limit: reset at ${formatReset(at, now)} (${then})`
}

/** The machine's hold as `doctor`, `top` and `daemon status` say it: "rate limited until 15:00 (five_hour), 2 tasks held". */
export function holdLine(hold: RateLimitHold | null, held: number, now: number = Date.now()): string | null {
  if (!hold) return null
  return `rate limited until ${formatReset(hold.untilMs, now)} (${hold.kind}, from ${hold.source}), ${held} task${held === 1 ? '' : 's'} held`
}
