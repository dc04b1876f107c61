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

/**
 * Cross-process controls: `task send` and `task interrupt` from any terminal write here; the
 * process hosting the task polls (<= 250 ms) and takes the items in order.
 */
export class InboxStore {
  constructor(private readonly db: Db) {}

  push(taskId: string, kind: InboxKind, payload: string | null = null): number {
    const result = this.db
      .prepare('INSERT INTO inbox (task_id, kind, payload, created_at) VALUES (?, ?, ?, ?)')
      .run(taskId, kind, payload, new Date().toISOString())
    return Number(result.lastInsertRowid)
  }

  /** Take (mark taken and return) every pending item of a task, oldest first. */
  take(taskId: string, kind?: InboxKind): InboxItem[] {
    return this.db
      .transaction(() => {
        const rows = this.db
          .prepare(
            `SELECT id, task_id AS taskId, kind, payload, created_at AS createdAt FROM inbox
             WHERE task_id = ? AND taken_at IS NULL ${kind ? 'AND kind = ?' : ''} ORDER BY id`,
          )
          .all(...(kind ? [taskId, kind] : [taskId])) as InboxItem[]
        const mark = this.db.prepare('UPDATE inbox SET taken_at = ? WHERE id = ?')
        const now = new Date().toISOString()
        for (const row of rows) mark.run(now, row.id)
        return rows
      })
      .immediate()
  }

  pendingCount(taskId: string, kind?: InboxKind): number {
    const row = this.db
      .prepare(`SELECT count(*) AS n FROM inbox WHERE task_id = ? AND taken_at IS NULL ${kind ? 'AND kind = ?' : ''}`)
      .get(...(kind ? [taskId, kind] : [taskId])) as {n: number}
    return row.n
  }

  /** Has the item been taken by the owner yet? */
  isTaken(id: number): boolean {
    const row = this.db.prepare('SELECT taken_at FROM inbox WHERE id = ?').get(id) as {taken_at: string | null} | undefined
    return row?.taken_at != null
  }
}
