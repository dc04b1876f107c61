import type {Statement} from 'better-sqlite3'

import {retryWhileBusy} from './busy.js'
import type {Db} from './database.js'

export interface OutboxMessage {
  seq: number
  type: string
  taskId: string | null
  /** the message object without seq (JSON text) */
  payload: string
}

export interface OutboxLimits {
  maxMessages: number
  maxBytes: number
}

const DROPPABLE = 'taskOutput'

/**
 * The daemon's durable outbox (protocol.md "Delivery"): every message but authenticate and
 * heartbeat gets a seq (strictly increasing, never reused, persisted) and is stored before it is
 * sent; an ack deletes every message up to its seq. Bounded: past the limits the oldest
 * taskOutput messages are dropped first; status, completion and answers are never dropped.
 */
export class OutboxStore {
  private count: number
  private bytes: number
  // prepared once: the outbox is on the daemon's hot path (tens of thousands of messages a second)
  private readonly stmt: {
    insert: Statement
    pending: Statement
    ackedRange: Statement
    deleteUpTo: Statement
    getMeta: Statement
    setMeta: Statement
  }

  constructor(private readonly db: Db) {
    // Acked messages are deleted with their bytes overwritten: a registerToolKey (a live secret)
    // does not linger in free pages of the database file once the server has it.
    db.pragma('secure_delete = ON')
    const row = db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM outbox').get() as {n: number; b: number}
    this.count = row.n
    this.bytes = row.b
    this.stmt = {
      insert: db.prepare('INSERT INTO outbox (seq, type, task_id, payload, bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
      pending: db.prepare('SELECT seq, type, task_id AS taskId, payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?'),
      ackedRange: db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM outbox WHERE seq <= ?'),
      deleteUpTo: db.prepare('DELETE FROM outbox WHERE seq <= ?'),
      getMeta: db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    }
  }

  /** Store messages (in order, one transaction); returns them with their seq and how many old ones were dropped. */
  append(items: readonly {type: string; taskId?: string | null; body: object}[], limits: OutboxLimits): {messages: OutboxMessage[]; dropped: number} {
    const append = this.db.transaction(() => {
      let seq = this.lastSeq()
      const now = Date.now()
      const messages = items.map((item) => {
        seq += 1
        const payload = JSON.stringify({type: item.type, ...item.body, seq})
        this.stmt.insert.run(seq, item.type, item.taskId ?? null, payload, payload.length, now)
        this.count += 1
        this.bytes += payload.length
        return {seq, type: item.type, taskId: item.taskId ?? null, payload}
      })
      this.setLastSeq(seq)
      return {messages, dropped: this.enforce(limits)}
    })
    return retryWhileBusy(this.db, () => append.immediate())
  }

  private enforce(limits: OutboxLimits): number {
    let dropped = 0
    while (this.count > limits.maxMessages || this.bytes > limits.maxBytes) {
      const excess = Math.max(this.count - limits.maxMessages, 1)
      const victims = this.db.prepare('SELECT seq, bytes FROM outbox WHERE type = ? ORDER BY seq LIMIT ?').all(DROPPABLE, Math.min(excess + 100, 10_000)) as {seq: number; bytes: number}[]
      if (victims.length === 0) break // only undroppable messages left: keep them
      const del = this.db.prepare('DELETE FROM outbox WHERE seq = ?')
      for (const v of victims) {
        if (this.count <= limits.maxMessages && this.bytes <= limits.maxBytes) break
        del.run(v.seq)
        this.count -= 1
        this.bytes -= v.bytes
        dropped += 1
      }
    }
    return dropped
  }

  /** The server stored every message up to `seq` (one transaction). Returns how many were deleted. */
  ack(seq: number): number {
    const ack = this.db.transaction(() => {
      const row = this.stmt.ackedRange.get(seq) as {n: number; b: number}
      if (row.n > 0) {
        this.stmt.deleteUpTo.run(seq)
        this.count -= row.n
        this.bytes -= row.b
      }
      const prev = Number(this.meta('outbox.lastAckedSeq') ?? 0)
      if (seq > prev) this.setMeta('outbox.lastAckedSeq', String(seq))
      return row.n
    })
    return retryWhileBusy(this.db, () => ack.immediate())
  }

  /** Unacknowledged messages after `afterSeq`, in seq order. */
  pending(afterSeq = 0, limit = 1000): OutboxMessage[] {
    return this.stmt.pending.all(afterSeq, limit) as OutboxMessage[]
  }

  get depth(): {messages: number; bytes: number} {
    return {messages: this.count, bytes: this.bytes}
  }

  /** When the oldest unacknowledged message was stored (ms since the epoch), or null when none is. */
  oldestCreatedAt(): number | null {
    const row = this.db.prepare('SELECT created_at AS at FROM outbox ORDER BY seq LIMIT 1').get() as {at: number} | undefined
    return row?.at ?? null
  }

  lastAckedSeq(): number | null {
    const v = this.meta('outbox.lastAckedSeq')
    return v === undefined ? null : Number(v)
  }

  lastSeq(): number {
    return Number(this.meta('outbox.lastSeq') ?? 0)
  }

  private setLastSeq(seq: number): void {
    this.setMeta('outbox.lastSeq', String(seq))
  }

  private meta(key: string): string | undefined {
    return (this.stmt.getMeta.get(key) as {value: string} | undefined)?.value
  }

  private setMeta(key: string, value: string): void {
    this.stmt.setMeta.run(key, value)
  }
}
