/**
 * What Claude Code tells about rate limits (issue 19 §3), read at the edge by stream-event.ts:
 *
 * - `{"type":"rate_limit_event","rate_limit_info":{"status":"allowed|allowed_warning|rejected",
 *   "resetsAt":<epoch s>,"rateLimitType":"five_hour|seven_day|...","utilization":0.9,...}}`: what
 *   the API's `anthropic-ratelimit-unified-*` response headers said (a subscription login);
 * - `system/api_retry` with `error_status: 429` and `retry_delay_ms` (stream-event.ts ApiRetryEvent);
 * - a run a usage limit ended: a `result` (`is_error`, `api_error_status: 429`) whose text is
 *   "You've hit your 5-hour limit · resets 3pm" (older CLIs: "session limit"; others "weekly
 *   limit", "Opus limit"), the time in the machine's local time zone.
 *
 * Recorded from Claude Code 2.1.197 and 2.1.332: test/fixtures/claude-stream-json/ (README).
 */

export type RateLimitStatus = 'allowed' | 'allowed_warning' | 'rejected'

export interface RateLimitInfo {
  /** null when absent or not one of the three known values */
  status: RateLimitStatus | null
  /** when the window resets, epoch milliseconds (`resetsAt` is in seconds) */
  resetsAtMs: number | null
  /** "five_hour", "seven_day", "seven_day_opus", ...: the window that limits */
  rateLimitType: string | null
  utilization: number | null
}

/** `rate_limit_event` of stream-event.ts: what the API's rate-limit headers said. */
export interface RateLimitEvent {
  kind: 'rate_limit'
  sessionId: string | null
  info: RateLimitInfo
  raw: Record<string, unknown>
}

const STATUSES: readonly string[] = ['allowed', 'allowed_warning', 'rejected']

export function rateLimitInfoOf(v: unknown): RateLimitInfo {
  const o = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {}
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null)
  const resetsAt = num(o.resetsAt)
  return {
    status: typeof o.status === 'string' && STATUSES.includes(o.status) ? (o.status as RateLimitStatus) : null,
    resetsAtMs: resetsAt === null ? null : resetsAt * 1000,
    rateLimitType: typeof o.rateLimitType === 'string' ? o.rateLimitType : null,
    utilization: num(o.utilization),
  }
}

/** A run a usage limit ended: which limit, and when it resets (null when the text did not say). */
export interface UsageLimitEnd {
  /** "5-hour", "session", "weekly", "Opus", ... as the text names it */
  limit: string
  resetsAtMs: number | null
  text: string
}

const HIT = /\bhit your ([\w-]+(?: [\w-]+)?) limit\b/i
const RESETS = /\bresets\s+(?:at\s+)?(?:(?<month>[A-Z][a-z]{2,8})\.?\s+(?<day>\d{1,2}),?\s+(?:at\s+)?)?(?<hour>\d{1,2})(?::(?<minute>\d{2}))?\s*(?<ampm>[ap]\.?m\.?)?/i
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec']

/**
 * The usage limit a run's final text reports ("You've hit your 5-hour limit · resets 3pm"), or
 * null when the text is not one. Cheap for the common case: one substring test first.
 */
export function usageLimitOf(text: string | null, now: number = Date.now()): UsageLimitEnd | null {
  if (!text || !/limit/i.test(text)) return null
  const hit = HIT.exec(text)
  if (!hit || /spend limit|fast limit/i.test(hit[0])) return null
  return {limit: hit[1], resetsAtMs: resetTimeOf(text, now), text}
}

/**
 * The time of "resets 3pm", "resets 3:30pm", "resets 15:00", "resets Dec 6, 3pm" in a text, in
 * the local time zone (in UTC when followed by "(UTC)", as Claude Code writes it on a UTC machine), as epoch milliseconds: the next such time after `now` (tomorrow when 3pm
 * has passed today; next year for a date already past). null when the text names no time.
 */
export function resetTimeOf(text: string, now: number = Date.now()): number | null {
  const m = RESETS.exec(text)
  if (!m?.groups) return null
  const {month, day, hour, minute, ampm} = m.groups
  let h = Number(hour)
  const min = minute === undefined ? 0 : Number(minute)
  if (ampm === undefined && minute === undefined) return null // "resets 3" names no time
  if (h > 23 || min > 59 || (ampm !== undefined && (h < 1 || h > 12))) return null
  if (ampm !== undefined) h = (h % 12) + (ampm.toLowerCase().startsWith('p') ? 12 : 0)
  // "resets 5am (UTC)": Claude Code names the zone when it is UTC; otherwise the time is local
  const utc = /^\s*\(UTC\)/.test(text.slice(m.index + m[0].length))
  const base = new Date(now)
  const year = utc ? base.getUTCFullYear() : base.getFullYear()
  const date = (y: number, mo: number, d: number) => (utc ? Date.UTC(y, mo, d, h, min) : new Date(y, mo, d, h, min).getTime())
  if (month !== undefined) {
    const mi = MONTHS.indexOf(month.slice(0, 3).toLowerCase())
    if (mi === -1) return null
    const at = date(year, mi, Number(day))
    return at <= now - 86_400_000 ? date(year + 1, mi, Number(day)) : at
  }
  const [mo, d] = utc ? [base.getUTCMonth(), base.getUTCDate()] : [base.getMonth(), base.getDate()]
  const at = date(year, mo, d)
  return at <= now ? date(year, mo, d + 1) : at
}

/** "15:00" today, else "Dec 6 15:00", in local time: how makima shows a reset. */
export function formatReset(ms: number, now: number = Date.now()): string {
  const d = new Date(ms)
  const hhmm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}${d.getSeconds() !== 0 && ms - now < 3_600_000 ? `:${String(d.getSeconds()).padStart(2, '0')}` : ''}`
  if (new Date(now).toDateString() === d.toDateString()) return hhmm
  return `${d.toLocaleString('en-US', {month: 'short'})} ${d.getDate()} ${hhmm}`
}
