import {retryWhileBusy, withBusyTimeout} from './busy.js'
import {immediate, type Db} from './database.js'
import {ACTIVE_STATES} from './task-record.js'
import type {TaskUsage} from './task-usage.js'

export type {TaskUsage} from './task-usage.js'

export type RunKind = 'start' | 'resume' | 'continue'

/** One run (one claude process) as stored. */
export interface RunRecord {
  taskId: string
  number: number
  kind: RunKind
  sessionId: string | null
  cliVersion: string | null
  apiKeySource: string | null
  startedMs: number
  endedMs: number | null
  inputTokens: number
  outputTokens: number
  cacheReadTokens: number
  cacheWriteTokens: number
  costUsd: number
  reportedCostUsd: number | null
  turns: number
  results: number
  models: string[]
}

export type RunPatch = Partial<Omit<RunRecord, 'taskId' | 'number' | 'kind' | 'startedMs'>>

export const NO_USAGE: TaskUsage = Object.freeze({
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  costUsd: 0,
  turns: 0,
  durationMs: 0,
  runs: 0,
  models: [],
  costEstimated: false,
}) as TaskUsage

const COLUMNS: Record<keyof RunPatch, string> = {
  sessionId: 'session_id',
  cliVersion: 'cli_version',
  apiKeySource: 'api_key_source',
  endedMs: 'ended_ms',
  inputTokens: 'input_tokens',
  outputTokens: 'output_tokens',
  cacheReadTokens: 'cache_read_tokens',
  cacheWriteTokens: 'cache_write_tokens',
  costUsd: 'cost_usd',
  reportedCostUsd: 'reported_cost_usd',
  turns: 'turns',
  results: 'results',
  models: 'models',
}

const ACTIVE_SQL = ACTIVE_STATES.map((s) => `'${s}'`).join(',')

/**
 * Where a run's wall time ends: its end, else now while its task is active, else when the task
 * ended (a runner that died never wrote the end of its run).
 */
const RUN_END_SQL = `coalesce(r.ended_ms, CASE WHEN t.state IN (${ACTIVE_SQL}) THEN @now
  ELSE coalesce(CAST((julianday(t.completed_at) - 2440587.5) * 86400000 AS INTEGER), r.started_ms) END)`

/** The aggregate columns of a set of runs `r` joined to their task `t` (SQL). */
export const USAGE_COLUMNS_SQL = `
  count(r.number) AS runs,
  coalesce(sum(r.input_tokens), 0) AS inputTokens,
  coalesce(sum(r.output_tokens), 0) AS outputTokens,
  coalesce(sum(r.cache_read_tokens), 0) AS cacheReadTokens,
  coalesce(sum(r.cache_write_tokens), 0) AS cacheWriteTokens,
  coalesce(sum(r.cost_usd), 0) AS costUsd,
  coalesce(sum(r.turns), 0) AS turns,
  coalesce(sum(max(0, ${RUN_END_SQL} - r.started_ms)), 0) AS durationMs,
  coalesce(max(r.api_key_source = 'none'), 0) AS costEstimated,
  json_group_array(json(r.models)) AS models`

/** A row of USAGE_COLUMNS_SQL: TaskUsage as SQLite returns it (a 0/1 flag, models as JSON text). */
type UsageRow = Omit<TaskUsage, 'costEstimated' | 'models'> & {costEstimated: number; models: string | null}

/** A row of USAGE_COLUMNS_SQL as a TaskUsage. */
export function usageOfRow(row: UsageRow | undefined): TaskUsage {
  if (!row || row.runs === 0) return {...NO_USAGE, models: []}
  return {
    inputTokens: row.inputTokens,
    outputTokens: row.outputTokens,
    cacheReadTokens: row.cacheReadTokens,
    cacheWriteTokens: row.cacheWriteTokens,
    costUsd: row.costUsd,
    turns: row.turns,
    durationMs: row.durationMs,
    runs: row.runs,
    models: modelsOf(row.models),
    costEstimated: row.costEstimated === 1,
  }
}

/** The distinct models of json_group_array(models): a JSON array of JSON arrays. */
function modelsOf(json: string | null): string[] {
  if (!json) return []
  const lists = JSON.parse(json) as unknown[]
  return [...new Set(lists.flatMap((l) => (Array.isArray(l) ? l.filter((m): m is string => typeof m === 'string') : [])))]
}

function toRow(key: keyof RunPatch, value: unknown): unknown {
  if (value === undefined || value === null) return null
  return key === 'models' ? JSON.stringify(value) : value
}

/** The runs table: one row per run of Claude Code, written by the run as it goes (tasks/run-meter.ts). */
export class UsageStore {
  constructor(private readonly db: Db) {}

  /**
   * Record a new run of the task; returns its number (1, 2, ...). A run left open by a runner that
   * died is closed first, at the task's last stored output line (its wall time is not known better).
   */
  startRun(taskId: string, kind: RunKind, startedMs: number, sessionId: string | null): number {
    return immediate(this.db, () => {
      this.db
        .prepare(
          `UPDATE runs SET ended_ms = max(started_ms, min(?, coalesce((SELECT max(ts) FROM output WHERE task_id = runs.task_id), started_ms)))
           WHERE task_id = ? AND ended_ms IS NULL`,
        )
        .run(startedMs, taskId)
      const row = this.db.prepare('SELECT coalesce(max(number), 0) AS n FROM runs WHERE task_id = ?').get(taskId) as {n: number}
      const number = row.n + 1
      this.db.prepare('INSERT INTO runs (task_id, number, kind, started_ms, session_id) VALUES (?, ?, ?, ?, ?)').run(taskId, number, kind, startedMs, sessionId)
      return number
    })
  }

  /**
   * `wait: false`: one try without waiting for another process's write lock (throws SQLite's busy
   * error): the run's periodic writes, which must never hold up the run's thread (store/busy.ts).
   */
  updateRun(taskId: string, number: number, patch: RunPatch, options: {wait?: boolean} = {}): void {
    const keys = (Object.keys(patch) as (keyof RunPatch)[]).filter((k) => patch[k] !== undefined)
    if (keys.length === 0) return
    const update = this.db.prepare(`UPDATE runs SET ${keys.map((k) => `${COLUMNS[k]} = ?`).join(', ')} WHERE task_id = ? AND number = ?`)
    const run = () => update.run(...keys.map((k) => toRow(k, patch[k])), taskId, number)
    if (options.wait === false) withBusyTimeout(this.db, 0, run)
    else retryWhileBusy(this.db, run)
  }

  runs(taskId: string): RunRecord[] {
    const rows = this.db.prepare('SELECT * FROM runs WHERE task_id = ? ORDER BY number').all(taskId) as Record<string, unknown>[]
    return rows.map((r) => ({
      taskId: r.task_id as string,
      number: r.number as number,
      kind: r.kind as RunKind,
      sessionId: (r.session_id as string | null) ?? null,
      cliVersion: (r.cli_version as string | null) ?? null,
      apiKeySource: (r.api_key_source as string | null) ?? null,
      startedMs: r.started_ms as number,
      endedMs: (r.ended_ms as number | null) ?? null,
      inputTokens: r.input_tokens as number,
      outputTokens: r.output_tokens as number,
      cacheReadTokens: r.cache_read_tokens as number,
      cacheWriteTokens: r.cache_write_tokens as number,
      costUsd: r.cost_usd as number,
      reportedCostUsd: (r.reported_cost_usd as number | null) ?? null,
      turns: r.turns as number,
      results: r.results as number,
      models: JSON.parse((r.models as string) || '[]') as string[],
    }))
  }

  /** The task's usage, all runs together; `exceptRun` leaves one run out (the one being counted live). */
  totals(taskId: string, options: {now?: number; exceptRun?: number} = {}): TaskUsage {
    const sql = `SELECT ${USAGE_COLUMNS_SQL} FROM runs r JOIN tasks t ON t.id = r.task_id WHERE r.task_id = @taskId AND r.number != @except`
    const row = this.db.prepare(sql).get({taskId, except: options.exceptRun ?? -1, now: options.now ?? Date.now()}) as UsageRow | undefined
    return usageOfRow(row)
  }

  /** totals(), or undefined when the database cannot be read now (a task's end is told without it). */
  totalsIfReadable(taskId: string): TaskUsage | undefined {
    try {
      return this.totals(taskId)
    } catch {
      return undefined
    }
  }

  /** The usage of many tasks in one query (task list, top); tasks without runs are absent. */
  totalsByTask(taskIds: readonly string[], now = Date.now()): Map<string, TaskUsage> {
    const out = new Map<string, TaskUsage>()
    if (taskIds.length === 0) return out
    const wanted = new Set(taskIds)
    const sql = `SELECT r.task_id AS taskId, ${USAGE_COLUMNS_SQL} FROM runs r JOIN tasks t ON t.id = r.task_id GROUP BY r.task_id`
    for (const row of this.db.prepare(sql).all({now}) as (UsageRow & {taskId: string})[]) {
      if (wanted.has(row.taskId)) out.set(row.taskId, usageOfRow(row))
    }
    return out
  }

  /** The last total_cost_usd an earlier run of this task reported for the session (0 when none). */
  sessionTotal(taskId: string, sessionId: string | null, exceptRun: number): number {
    if (!sessionId) return 0
    const row = this.db
      .prepare('SELECT reported_cost_usd AS c FROM runs WHERE task_id = ? AND session_id = ? AND number != ? AND reported_cost_usd IS NOT NULL ORDER BY number DESC LIMIT 1')
      .get(taskId, sessionId, exceptRun) as {c: number} | undefined
    return row?.c ?? 0
  }
}
