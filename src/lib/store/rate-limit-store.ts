import {retryWhileBusy} from './busy.js'
import type {Db} from './database.js'

/** Where a hold came from: the signal of Claude Code's stream that showed it (claude/rate-limit.ts). */
export type RateLimitSource = 'rate_limit_event' | 'api_retry' | 'usage_limit'

/**
 * The machine's rate-limit hold (issue 19 §3): one Claude login per MAKIMA_HOME, so one hold.
 * While `untilMs` lies in the future admission (task spawn/start, the daemon's spawnTask)
 * queues new tasks instead of starting them, and the queue is not promoted (tasks/rate-hold.ts).
 */
export interface RateLimitHold {
  untilMs: number
  /** the window ("five_hour", "seven_day", ...), or "retry" for a 429 Claude Code retries */
  kind: string
  source: RateLimitSource
  /** the task whose run showed it */
  taskId: string | null
  updatedMs: number
}

/** The one row of the rate_limit table (migration 9). */
export class RateLimitStore {
  constructor(private readonly db: Db) {}

  /**
   * Record a hold. A later one replaces it only when it lasts longer (a short retry delay does
   * not shorten a 5-hour window) or when the recorded one has passed. A window that reset early
   * (a new `allowed` event for it) is lifted with clear().
   */
  record(hold: Omit<RateLimitHold, 'updatedMs'>, now: number = Date.now()): void {
    const stmt = this.db.prepare(`INSERT INTO rate_limit (id, until_ms, kind, source, task_id, updated_ms) VALUES (1, ?, ?, ?, ?, ?)
      ON CONFLICT(id) DO UPDATE SET until_ms = excluded.until_ms, kind = excluded.kind, source = excluded.source, task_id = excluded.task_id, updated_ms = excluded.updated_ms
      WHERE excluded.until_ms > rate_limit.until_ms OR rate_limit.until_ms <= excluded.updated_ms`)
    retryWhileBusy(this.db, () => stmt.run(hold.untilMs, hold.kind, hold.source, hold.taskId, now))
  }

  /** The hold as last recorded, past or not (null: never one). */
  last(): RateLimitHold | null {
    const row = this.db.prepare('SELECT until_ms, kind, source, task_id, updated_ms FROM rate_limit WHERE id = 1').get() as
      {until_ms: number; kind: string; source: RateLimitSource; task_id: string | null; updated_ms: number} | undefined
    return row ? {untilMs: row.until_ms, kind: row.kind, source: row.source, taskId: row.task_id, updatedMs: row.updated_ms} : null
  }

  /** The hold while it lies in the future, else null. */
  current(now: number = Date.now()): RateLimitHold | null {
    const hold = this.last()
    return hold && hold.untilMs > now ? hold : null
  }

  /** Lift the hold now (the API said `allowed` again for that window). */
  clear(kind: string, now: number = Date.now()): void {
    const stmt = this.db.prepare('UPDATE rate_limit SET until_ms = ?, updated_ms = ? WHERE id = 1 AND kind = ? AND until_ms > ?')
    retryWhileBusy(this.db, () => stmt.run(now, now, kind, now))
  }
}
