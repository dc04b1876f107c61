import {MakimaError} from '../../errors.js'

/**
 * A task's hard limits (issue 19): wall time of all its runs together, turns counted by makima
 * from the stream across runs, and cost. null = no limit. The task keeps them (tasks.limits);
 * `task spawn|create` flags set them, else the config's limits.* defaults (0 = none), which the
 * daemon applies to server tasks too; `task send` may give new ones.
 */
export interface TaskLimits {
  timeoutSecs: number | null
  maxTurns: number | null
  maxCostUsd: number | null
}

/** What has been used so far, in the units of the limits. */
export interface LimitUsage {
  durationMs: number
  turns: number
  costUsd: number
}

export const NO_LIMITS: TaskLimits = Object.freeze({timeoutSecs: null, maxTurns: null, maxCostUsd: null})

const UNITS: Record<string, number> = {s: 1, m: 60, h: 3600, d: 86_400}

/** "90s", "30m", "2h", "1d", "1h30m" or a plain number of seconds -> seconds; throws INVALID_INPUT naming the value. */
export function parseDuration(value: string, what = '--timeout'): number {
  const text = value.trim().toLowerCase()
  const bad = () => new MakimaError('INVALID_INPUT', `${what} "${value}" is not a duration: give a number with a unit, e.g. 90s, 30m, 2h or 1h30m`)
  if (/^\d+(\.\d+)?$/.test(text)) {
    const secs = Number(text)
    if (!(secs > 0)) throw bad()
    return secs
  }
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)([smhd])/g)]
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw bad()
  const secs = parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]], 0)
  if (!(secs > 0)) throw bad()
  return secs
}

/** 5400 -> "1h30m", 90 -> "1m30s", 1800 -> "30m", 2.5 -> "2.5s". */
export function formatDuration(secs: number): string {
  if (secs < 60) return `${Number(secs.toFixed(1))}s`
  let rest = Math.round(secs)
  let out = ''
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size)
    rest -= n * size
    if (n > 0) out += `${n}${unit}`
  }
  return out
}

/** "$1.23", "$0.0123", and two significant digits below a cent ("$0.00012": a scripted turn costs $0.00003). */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0'
  if (usd >= 1) return `$${usd.toFixed(2)}`
  if (usd >= 0.01) return `$${usd.toFixed(4)}`
  return `$${Number(usd.toPrecision(2))}`
}

export function parseMaxTurns(value: string | number, what = '--max-turns'): number {
  const n = typeof value === 'number' ? value : Number(String(value).trim())
  if (!Number.isInteger(n) || n < 1) throw new MakimaError('INVALID_INPUT', `${what} "${value}" is not a whole number of turns of at least 1`)
  return n
}

export function parseMaxCost(value: string | number, what = '--max-cost'): number {
  const text = String(value).trim().replace(/^\$/, '')
  const n = Number(text)
  if (text === '' || !Number.isFinite(n) || n <= 0) throw new MakimaError('INVALID_INPUT', `${what} "${value}" is not an amount of US dollars above 0, e.g. 2 or 0.50`)
  return n
}

/** The limit flags of task spawn/create/send as given (strings), parsed; only the flags given are set. */
export function limitsFromFlags(flags: {timeout?: string; 'max-turns'?: string; 'max-cost'?: string}): Partial<TaskLimits> {
  const limits: Partial<TaskLimits> = {}
  if (flags.timeout !== undefined) limits.timeoutSecs = parseDuration(flags.timeout)
  if (flags['max-turns'] !== undefined) limits.maxTurns = parseMaxTurns(flags['max-turns'])
  if (flags['max-cost'] !== undefined) limits.maxCostUsd = parseMaxCost(flags['max-cost'])
  return limits
}

/** The config's defaults (limits.timeoutSecs, limits.maxTurns, limits.maxCostUsd; 0 = none) as limits. */
export function configLimits(config: {timeoutSecs?: number; maxTurns?: number; maxCostUsd?: number} | undefined): TaskLimits {
  const positive = (n: number | undefined) => (n !== undefined && n > 0 ? n : null)
  return {timeoutSecs: positive(config?.timeoutSecs), maxTurns: positive(config?.maxTurns), maxCostUsd: positive(config?.maxCostUsd)}
}

/** `given` over `base`, field by field; null when no limit is set at all. */
export function mergeLimits(base: TaskLimits | null, given: Partial<TaskLimits> | undefined): TaskLimits | null {
  const merged: TaskLimits = {...NO_LIMITS, ...(base ?? {})}
  for (const key of Object.keys(given ?? {}) as (keyof TaskLimits)[]) if (given![key] !== undefined) merged[key] = given![key]!
  return merged.timeoutSecs === null && merged.maxTurns === null && merged.maxCostUsd === null ? null : merged
}

export function hasLimits(given: Partial<TaskLimits> | undefined): boolean {
  return given !== undefined && Object.values(given).some((v) => v !== undefined)
}

/** The task's error when a limit stops it ("limit reached: 30m wall time"). */
export function timeoutMessage(limits: TaskLimits): string {
  return `limit reached: ${formatDuration(limits.timeoutSecs ?? 0)} wall time`
}

export function turnsMessage(turns: number, limits: TaskLimits): string {
  return `limit reached: ${turns} turn${turns === 1 ? '' : 's'} (max ${limits.maxTurns})`
}

export function costMessage(costUsd: number, limits: TaskLimits): string {
  return `limit reached: ${formatUsd(costUsd)} cost (max ${formatUsd(limits.maxCostUsd ?? 0)})`
}

/**
 * The limit a task has reached with this usage (the message of its error), or null. Turns count
 * as reached at the limit: a run starting then would make one more.
 */
export function limitReached(limits: TaskLimits | null, used: LimitUsage): string | null {
  if (!limits) return null
  if (limits.timeoutSecs !== null && used.durationMs >= limits.timeoutSecs * 1000) return timeoutMessage(limits)
  if (limits.maxTurns !== null && used.turns >= limits.maxTurns) return turnsMessage(used.turns, limits)
  if (limits.maxCostUsd !== null && used.costUsd >= limits.maxCostUsd) return costMessage(used.costUsd, limits)
  return null
}

/** What is left of the cost budget (for Claude Code's --max-budget-usd), or null without one. */
export function remainingBudget(limits: TaskLimits | null, costUsd: number): number | null {
  if (!limits || limits.maxCostUsd === null) return null
  return Math.max(0, limits.maxCostUsd - costUsd)
}
