import {formatReset, type RateLimitInfo} from '../../claude/rate-limit.js'
import type {ClaudeEvent} from '../../claude/stream-event.js'
import type {Store} from '../../store/store.js'

/** A run that a usage limit of Claude Code ended: the task fails with failureKind usage_limit. */
export interface UsageLimitOutcome {
  /** when it resets (epoch ms); null when Claude Code did not say */
  untilMs: number | null
  /** the window: "five_hour", "seven_day", ... or the text's name for it ("5-hour") */
  kind: string
  /** Claude Code's own words ("You've hit your 5-hour limit · resets 3pm") */
  text: string
}

/**
 * Watches one run's stream for rate limits (claude/rate-limit.ts) and records the machine's hold
 * (store/rate-limit-store.ts) at the first sign, while the run goes on (Claude Code retries on
 * its own; makima never stops a run for a rate limit):
 *
 * - a `rate_limit_event` with status `rejected`: held until its `resetsAt`; `allowed` again for
 *   the same window lifts it;
 * - an `api_retry` of a 429: held for `retry_delay_ms` (new tasks would only meet the same 429);
 * - a `result` saying a usage limit ended the run: held until the reset it names (or the last
 *   rejected event's), and the run's outcome says so (usageLimit).
 *
 * Writing the hold is best effort: a busy or failing database never stops the run.
 */
export class RateWatch {
  usageLimit: UsageLimitOutcome | null = null
  private rejected: RateLimitInfo | null = null

  constructor(
    private readonly store: Store,
    private readonly taskId: string,
    private readonly now: () => number = Date.now,
  ) {}

  observe(event: ClaudeEvent): void {
    if (event.kind === 'rate_limit') {
      const {info} = event
      if (info.status === 'rejected') {
        this.rejected = info
        if (info.resetsAtMs !== null) this.hold(info.resetsAtMs, info.rateLimitType ?? 'unknown', 'rate_limit_event')
      } else if (info.status === 'allowed' && info.rateLimitType) this.safely(() => this.store.rateLimit.clear(info.rateLimitType!, this.now()))
    } else if (event.kind === 'api_retry' && event.errorStatus === 429) {
      const now = this.now() // one clock reading: the hold lasts the whole retry delay from when it was recorded
      this.hold(now + Math.max(event.retryDelayMs, 1000), 'retry', 'api_retry', now)
    } else if (event.kind === 'result' && event.isError && (event.usageLimit || (event.apiErrorStatus === 429 && this.rejected))) {
      // the event's resetsAt is exact; the text rounds it ("resets 5am" for 05:00:21)
      const untilMs = this.rejected?.resetsAtMs ?? event.usageLimit?.resetsAtMs ?? null
      const kind = this.rejected?.rateLimitType ?? event.usageLimit?.limit ?? 'unknown'
      this.usageLimit = {untilMs, kind, text: event.usageLimit?.text ?? event.result ?? 'usage limit reached'}
      if (untilMs !== null) this.hold(untilMs, kind, 'usage_limit')
    }
  }

  private hold(untilMs: number, kind: string, source: 'rate_limit_event' | 'api_retry' | 'usage_limit', now = this.now()): void {
    this.safely(() => this.store.rateLimit.record({untilMs, kind, source, taskId: this.taskId}, now))
  }

  private safely(write: () => void): void {
    try {
      write()
    } catch {
      // best effort: the next sign records it again
    }
  }
}

/** The error of a task a usage limit ended: "usage limit reached (five_hour): resets at 15:00 ...". */
export function usageLimitError(limit: UsageLimitOutcome, resumeAfterLimit: boolean, now: number = Date.now()): string {
  const when = limit.untilMs === null ? 'Claude Code did not say when it resets' : `resets at ${formatReset(limit.untilMs, now)}`
  const next = resumeAfterLimit && limit.untilMs !== null ? 'makima resumes it then (--resume-after-limit)' : 'resume it then with `makima task send <id> continue`'
  return `usage limit reached (${limit.kind}): ${when}; ${next}. Claude Code said: ${limit.text.slice(0, 300)}`
}
