import type BetterSqlite3 from 'better-sqlite3'

import {retryWhileBusy} from './busy.js'
import type {Db} from './database.js'

/** What another process asks the process that owns a task to do. */
export type InboxKind = 'message' | 'interrupt'

export interface InboxItem {
  id: number
  taskId: string
  kind: InboxKind
  payload: string | null
  createdAt: string
}

type Statement = BetterSqlite3.Statement<unknown[]>

const PENDING = 'FROM inbox WHERE task_id = ? AND taken_at IS NULL'

/**
 * Cross-process controls: `task send` and `task interrupt` from any terminal write here; the
 * process hosting the task polls (<= 250 ms) and takes the items in order. Polling is a plain
 * read: a write transaction is opened only when something is waiting (a daemon with 100 running
 * tasks would otherwise open hundreds of them a second for nothing).
 */
export class InboxStore {
  private readonly statements = new Map<string, Statement>()

  constructor(private readonly db: Db) {}

  push(taskId: string, kind: InboxKind, payload: string | null = null): number {
    const insert = this.statement('INSERT INTO inbox (task_id, kind, payload, created_at) VALUES (?, ?, ?, ?)')
    const result = retryWhileBusy(this.db, () => insert.run(taskId, kind, payload, new Date().toISOString()))
    return Number(result.lastInsertRowid)
  }

  /** Take (mark taken and return) every pending item of a task, oldest first. */
  take(taskId: string, kind?: InboxKind): InboxItem[] {
    const args = kind ? [taskId, kind] : [taskId]
    const filter = kind ? ' AND kind = ?' : ''
    if (!this.statement(`SELECT 1 ${PENDING}${filter} LIMIT 1`).get(...args)) return []
    const take = this.db.transaction(() => {
      const rows = this.statement(`SELECT id, task_id AS taskId, kind, payload, created_at AS createdAt ${PENDING}${filter} ORDER BY id`).all(...args) as InboxItem[]
      const mark = this.statement('UPDATE inbox SET taken_at = ? WHERE id = ?')
      const now = new Date().toISOString()
      for (const row of rows) mark.run(now, row.id)
      return rows
    })
    return retryWhileBusy(this.db, () => take.immediate())
  }

  pendingCount(taskId: string, kind?: InboxKind): number {
    const row = this.statement(`SELECT count(*) AS n ${PENDING}${kind ? ' AND kind = ?' : ''}`).get(...(kind ? [taskId, kind] : [taskId])) as {n: number}
    return row.n
  }

  /** Has the item been taken by the owner yet? */
  isTaken(id: number): boolean {
    const row = this.statement('SELECT taken_at FROM inbox WHERE id = ?').get(id) as {taken_at: string | null} | undefined
    return row?.taken_at != null
  }

  /** Prepared once per connection and SQL text. */
  private statement(sql: string): Statement {
    let stmt = this.statements.get(sql)
    if (!stmt) {
      stmt = this.db.prepare(sql)
      this.statements.set(sql, stmt)
    }
    return stmt
  }
}
