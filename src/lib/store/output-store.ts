import type {Db} from './database.js'

export type OutputStream = 'stdout' | 'stderr' | 'makima'

export interface OutputLine {
  seq: number
  ts: number
  stream: OutputStream
  line: string
}

const ROWS_PER_INSERT = 64

interface PendingLine {
  taskId: string
  stream: OutputStream
  line: string
  ts: number
}

/**
 * The append-only output log of every task: each stream-json line claude printed, its stderr,
 * and makima's own progress lines, numbered per task. Writers buffer and flush in one
 * transaction per tick (no per-line fsync), so ingestion keeps up with a chatty claude.
 */
export class OutputStore {
  private readonly insertStmt
  /** INSERT of ROWS_PER_INSERT rows at once: far fewer calls into SQLite for a long batch */
  private readonly insertManyStmt
  private readonly maxSeqStmt
  private readonly readStmt
  private readonly nextSeq = new Map<string, number>()
  private pending: PendingLine[] = []
  private readonly insertBatch

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare('INSERT INTO output (task_id, seq, ts, stream, line) VALUES (?, ?, ?, ?, ?)')
    this.insertManyStmt = db.prepare(`INSERT INTO output (task_id, seq, ts, stream, line) VALUES ${Array(ROWS_PER_INSERT).fill('(?, ?, ?, ?, ?)').join(', ')}`)
    this.maxSeqStmt = db.prepare('SELECT coalesce(max(seq), 0) AS n FROM output WHERE task_id = ?')
    this.readStmt = db.prepare('SELECT seq, ts, stream, line FROM output WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?')
    this.insertBatch = db.transaction((batch: PendingLine[]) => this.insertBatchRows(batch))
  }

  /** Queue a line; call flush() (the runner does every tick and at the end). */
  push(taskId: string, stream: OutputStream, line: string): void {
    this.pending.push({taskId, stream, line, ts: Date.now()})
  }

  get pendingCount(): number {
    return this.pending.length
  }

  /** Write every queued line in one transaction. Seq continues from the store's max for the task. */
  flush(): number {
    if (this.pending.length === 0) return 0
    const batch = this.pending
    this.pending = []
    this.insertBatch.immediate(batch)
    return batch.length
  }

  /** Inserts a batch (inside the transaction); a run of lines of one task costs one seq lookup. */
  private insertBatchRows(batch: PendingLine[]): void {
    let taskId: string | undefined
    let seq = 0
    const params: unknown[] = []
    for (const item of batch) {
      if (item.taskId !== taskId) {
        if (taskId !== undefined) this.nextSeq.set(taskId, seq)
        taskId = item.taskId
        // Re-read the max when this writer has not written the task yet (another process may have).
        seq = this.nextSeq.get(taskId) ?? (this.maxSeqStmt.get(taskId) as {n: number}).n + 1
      }
      params.push(taskId, seq++, item.ts, item.stream, item.line)
      if (params.length === ROWS_PER_INSERT * 5) {
        this.insertManyStmt.run(params)
        params.length = 0
      }
    }
    for (let at = 0; at < params.length; at += 5) this.insertStmt.run(params.slice(at, at + 5))
    if (taskId !== undefined) this.nextSeq.set(taskId, seq)
  }

  /** Forget cached sequence numbers (another process may write the task next). */
  release(taskId: string): void {
    this.nextSeq.delete(taskId)
  }

  read(taskId: string, afterSeq = 0, limit = 10_000): OutputLine[] {
    return this.readStmt.all(taskId, afterSeq, limit) as OutputLine[]
  }

  lastLine(taskId: string, stream: OutputStream = 'stdout'): OutputLine | undefined {
    return this.db
      .prepare('SELECT seq, ts, stream, line FROM output WHERE task_id = ? AND stream = ? ORDER BY seq DESC LIMIT 1')
      .get(taskId, stream) as OutputLine | undefined
  }

  count(taskId: string): number {
    return (this.db.prepare('SELECT count(*) AS n FROM output WHERE task_id = ?').get(taskId) as {n: number}).n
  }
}
