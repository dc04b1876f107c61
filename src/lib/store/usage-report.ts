import {redactCredentials} from '../redact.js'
import type {Db} from './database.js'
import {USAGE_COLUMNS_SQL, usageOfRow, type TaskUsage} from './usage-store.js'

export const USAGE_GROUPINGS = ['day', 'repo', 'task'] as const
export type UsageGrouping = (typeof USAGE_GROUPINGS)[number]

/** One group of `makima usage`: a day (UTC, of the run's start), a repository or a task. */
export interface UsageReportRow extends TaskUsage {
  key: string
  label: string
  /** tasks with runs in the group */
  tasks: number
}

export interface UsageReport {
  /** ISO time the report starts at (runs that started since), null: everything stored */
  since: string | null
  by: UsageGrouping
  rows: UsageReportRow[]
  total: TaskUsage & {tasks: number}
}

const GROUP_SQL: Record<UsageGrouping, {key: string; label: string; order: string}> = {
  day: {key: `date(r.started_ms / 1000, 'unixepoch')`, label: `date(r.started_ms / 1000, 'unixepoch')`, order: 'key'},
  repo: {key: `coalesce(t.repo_source, '')`, label: `coalesce(t.repo_source, '(no repository)')`, order: 'costUsd DESC, key'},
  task: {key: 't.id', label: `t.short_id || '  ' || t.name`, order: 'min(r.started_ms)'},
}

/**
 * Totals of the runs table for `makima usage`: the runs that started since `sinceMs` (all when
 * null), grouped by day, repository or task, and all of them together. Tasks removed by
 * history.retentionDays take their runs with them.
 */
export function usageReport(db: Db, options: {sinceMs: number | null; by: UsageGrouping; now?: number}): UsageReport {
  const group = GROUP_SQL[options.by]
  const params = {since: options.sinceMs ?? 0, now: options.now ?? Date.now()}
  const from = 'FROM runs r JOIN tasks t ON t.id = r.task_id WHERE r.started_ms >= @since'
  const rows = db
    .prepare(`SELECT ${group.key} AS key, ${group.label} AS label, count(DISTINCT r.task_id) AS tasks, ${USAGE_COLUMNS_SQL} ${from} GROUP BY key ORDER BY ${group.order}`)
    .all(params) as (Parameters<typeof usageOfRow>[0] & {key: string; label: string; tasks: number})[]
  const total = db.prepare(`SELECT count(DISTINCT r.task_id) AS tasks, ${USAGE_COLUMNS_SQL} ${from}`).get(params) as Parameters<typeof usageOfRow>[0] & {tasks: number}
  return {
    since: options.sinceMs === null ? null : new Date(options.sinceMs).toISOString(),
    by: options.by,
    rows: rows.map((row) => ({key: row.key, label: redactCredentials(row.label), tasks: row.tasks, ...usageOfRow(row)})),
    total: {tasks: total?.tasks ?? 0, ...usageOfRow(total)},
  }
}

/** `--since`: a duration back from now (7d, 12h, 90m) or a date (2026-05-01, UTC) or ISO time -> epoch ms. */
export function sinceFromFlag(value: string, parseDuration: (value: string, what: string) => number, now = Date.now()): number {
  const text = value.trim()
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text)
    if (Number.isFinite(ms)) return ms
  }
  return now - parseDuration(text, '--since') * 1000
}
