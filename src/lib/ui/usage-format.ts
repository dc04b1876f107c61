import type {UsageReport} from '../store/usage-report.js'
import type {RunRecord, TaskUsage} from '../store/usage-store.js'
import {formatDuration, formatUsd, type TaskLimits} from '../tasks/limits/limits.js'

/** What a person is told wherever a subscription login's cost is shown. */
export const ESTIMATE_NOTE = 'estimate at API prices: Claude Code runs on a subscription login, which is not billed per token'

/** 950 -> "950", 12_345 -> "12.3k", 4_560_000 -> "4.56M". */
export function formatTokens(n: number): string {
  if (n < 1000) return String(n)
  if (n < 1_000_000) return `${Number((n / 1000).toPrecision(3))}k`
  return `${Number((n / 1_000_000).toPrecision(3))}M`
}

/** A cost cell of a table: "-" without runs, "~$0.12" when it is an estimate (see ESTIMATE_NOTE). */
export function costCell(usage: TaskUsage | undefined): string {
  if (!usage || usage.runs === 0) return '-'
  return `${usage.costEstimated ? '~' : ''}${formatUsd(usage.costUsd)}`
}

export function formatMs(ms: number): string {
  return formatDuration(ms / 1000)
}

/** The limits of a task in words: "wall time 30m, 50 turns, $2". */
export function limitsText(limits: TaskLimits | null): string | null {
  if (!limits) return null
  const parts: string[] = []
  if (limits.timeoutSecs !== null) parts.push(`wall time ${formatDuration(limits.timeoutSecs)}`)
  if (limits.maxTurns !== null) parts.push(`${limits.maxTurns} turns`)
  if (limits.maxCostUsd !== null) parts.push(`cost ${formatUsd(limits.maxCostUsd)}`)
  return parts.length > 0 ? parts.join(', ') : null
}

function tokensText(u: {inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number}): string {
  return `in ${formatTokens(u.inputTokens)}, out ${formatTokens(u.outputTokens)}, cache read ${formatTokens(u.cacheReadTokens)}, cache write ${formatTokens(u.cacheWriteTokens)}`
}

/** The `task show` rows of a task's usage ([label, value]); none before its first run. */
export function usageRows(usage: TaskUsage, limits: TaskLimits | null): [string, string][] {
  const rows: [string, string][] = []
  const limitText = limitsText(limits)
  if (limitText) rows.push(['limits', limitText])
  if (usage.runs === 0) return rows
  rows.push(['cost', `${formatUsd(usage.costUsd)}${usage.costEstimated ? ` (${ESTIMATE_NOTE})` : ''}`])
  rows.push(['turns', String(usage.turns)])
  rows.push(['wall time', `${formatMs(usage.durationMs)} in ${usage.runs} run${usage.runs === 1 ? '' : 's'}`])
  rows.push(['tokens', tokensText(usage)])
  if (usage.models.length > 0) rows.push(['models', usage.models.join(', ')])
  return rows
}

/** One line per run for `task show`: "#2 resume  1 turn  $0.00003  in 1, out 1, ...  0.4s  2.1.197". */
export function runLines(runs: readonly RunRecord[], now = Date.now()): string[] {
  return runs.map((r) => {
    const duration = formatMs(Math.max(0, (r.endedMs ?? now) - r.startedMs))
    const turns = `${r.turns} turn${r.turns === 1 ? '' : 's'}`
    const cost = `${r.apiKeySource === 'none' ? '~' : ''}${formatUsd(r.costUsd)}`
    const running = r.endedMs === null ? ' (running)' : ''
    return `#${r.number} ${r.kind.padEnd(8)} ${turns.padEnd(9)} ${cost.padEnd(10)} ${duration}${running}  ${tokensText(r)}${r.cliVersion ? `  claude ${r.cliVersion}` : ''}`
  })
}

/** `makima usage` as a table: one line per group, then the total (and the estimate note when it applies). */
export function reportLines(report: UsageReport): string[] {
  const head = [report.by.toUpperCase(), 'TASKS', 'RUNS', 'TURNS', 'COST', 'INPUT', 'OUTPUT', 'CACHE READ', 'CACHE WRITE', 'WALL TIME']
  const cells = (label: string, u: TaskUsage & {tasks: number}) => [
    label,
    String(u.tasks),
    String(u.runs),
    String(u.turns),
    costCell(u) === '-' ? '$0' : costCell(u),
    formatTokens(u.inputTokens),
    formatTokens(u.outputTokens),
    formatTokens(u.cacheReadTokens),
    formatTokens(u.cacheWriteTokens),
    formatMs(u.durationMs),
  ]
  const table = [head, ...report.rows.map((r) => cells(r.label, r)), cells('total', report.total)]
  const widths = head.map((_, i) => Math.max(...table.map((r) => r[i].length)))
  const lines = table.map((r) =>
    r
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd(),
  )
  if (report.total.costEstimated) lines.push(`~ ${ESTIMATE_NOTE}`)
  return lines
}
