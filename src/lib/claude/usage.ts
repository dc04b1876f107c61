/**
 * What Claude Code reports about the cost of its work, and how its numbers mean different things
 * in different versions. Measured against the scripted API with the real CLI (fixtures in
 * test/fixtures/claude-usage/, one task and a follow-up in each version):
 *
 * - `usage` (tokens) and `num_turns` on a `result` line count that result's turn only, in every
 *   version: one `result` per user message, several in one process when follow-ups arrive on stdin.
 * - `total_cost_usd` is a running total in every version, but of what changed:
 *   up to 2.1.276 it is the total of the process (two results in one process: 0.00013, 0.00026;
 *   a `--resume` or `--continue` starts again from 0); from 2.1.277 on it is the total of the
 *   session, carried over when the session is resumed or continued (0.000048, then 0.000072 after
 *   `--resume`). Found by installing versions 2.1.265 (per process) ... 2.1.332 (per session) and
 *   bisecting: 2.1.276 is the last per-process version, 2.1.277 the first per-session one
 *   (`node scripts/probe-claude-usage.mjs <claude>` says which a version does).
 *   So a run's own cost is always "this total minus the total before it": the previous result of
 *   the same process, else the session's last reported total (2.1.277+) or 0 (older).
 * - From 2.1.218 on, the fields of a `result` line come in another order (`type` is no longer
 *   first); they are read by name (stream-event.ts), never by position.
 * - `--max-budget-usd` compares the cost of the process (not of the session) in both behaviours
 *   and is checked after each turn: it overshoots by up to one turn, then a `result` with
 *   subtype `error_max_budget_usd` ends the turn. `--max-turns N` lets N assistant messages
 *   through and reports `num_turns: N+1` with subtype `error_max_turns`.
 * - The `system`/`init` line names `claude_code_version` and `apiKeySource`: "none" means a
 *   subscription (OAuth) login, where the reported cost is an estimate at API prices, not a bill.
 */

/** The first Claude Code version whose `total_cost_usd` is the session's total, carried over on resume. */
export const SESSION_TOTAL_COST_SINCE = '2.1.277'

/** Tokens of one result (or a sum of them). */
export interface TokenUsage {
  inputTokens: number
  outputTokens: number
  cacheReadTokens: number
  cacheWriteTokens: number
}

export const NO_TOKENS: TokenUsage = Object.freeze({inputTokens: 0, outputTokens: 0, cacheReadTokens: 0, cacheWriteTokens: 0})

function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0
}

/** The tokens of a `result` line's `usage` object (missing fields are 0). */
export function tokenUsageOf(usage: unknown): TokenUsage {
  if (typeof usage !== 'object' || usage === null) return NO_TOKENS
  const u = usage as Record<string, unknown>
  return {
    inputTokens: count(u.input_tokens),
    outputTokens: count(u.output_tokens),
    cacheReadTokens: count(u.cache_read_input_tokens),
    cacheWriteTokens: count(u.cache_creation_input_tokens),
  }
}

/** The model names of a `result` line's `modelUsage` object (its keys), in order. */
export function modelsOf(modelUsage: unknown): string[] {
  if (typeof modelUsage !== 'object' || modelUsage === null || Array.isArray(modelUsage)) return []
  return Object.keys(modelUsage)
}

export function addTokens(a: TokenUsage, b: TokenUsage): TokenUsage {
  return {
    inputTokens: a.inputTokens + b.inputTokens,
    outputTokens: a.outputTokens + b.outputTokens,
    cacheReadTokens: a.cacheReadTokens + b.cacheReadTokens,
    cacheWriteTokens: a.cacheWriteTokens + b.cacheWriteTokens,
  }
}

/** -1, 0 or 1 for dotted numeric versions ("2.1.97" < "2.1.277"); a non-numeric part counts as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0)
  const pb = b.split(/[.-]/).map((p) => Number.parseInt(p, 10) || 0)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d !== 0) return d < 0 ? -1 : 1
  }
  return 0
}

/**
 * Whether this version's `total_cost_usd` carries the session's earlier cost over on resume.
 * An unknown version is taken as the newer behaviour; RunCost then notices a total that starts
 * below the session's and counts it as the process's own.
 */
export function costIsSessionTotal(version: string | null): boolean {
  return version === null || compareVersions(version, SESSION_TOTAL_COST_SINCE) >= 0
}

/** A subscription login (`apiKeySource: "none"`): the cost Claude Code reports is an estimate at API prices. */
export function isSubscriptionLogin(apiKeySource: string | null): boolean {
  return apiKeySource === 'none'
}

/**
 * The own cost of one run (one claude process) from the running totals its `result` lines
 * report, for both behaviours: each result adds its total minus the total before it. Running
 * totals are never added up, and a result is never dropped.
 */
export class RunCost {
  /** the cost of this run so far */
  costUsd = 0
  /** the last `total_cost_usd` this run reported (stored so a resumed session knows where it was) */
  lastReported: number | null = null
  private startsAt = 0

  /**
   * `sessionTotal`: the last total reported for this session by an earlier run (0 when none);
   * it counts only when the version carries the session's cost over.
   */
  begin(version: string | null, sessionTotal: number): void {
    if (this.lastReported === null) this.startsAt = costIsSessionTotal(version) ? sessionTotal : 0
  }

  /** A result's `total_cost_usd`; returns what it adds to the run's cost. */
  add(total: number | null): number {
    if (total === null || !Number.isFinite(total)) return 0
    const before = this.lastReported ?? this.startsAt
    // A total below the one before it started counting again (a process total where a session
    // total was expected): all of it is new.
    const added = total >= before ? total - before : total
    this.lastReported = total
    this.costUsd += added
    return added
  }
}
