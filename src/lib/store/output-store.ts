import type {Db} from './database.js'
import {emptyBatch, type OutputBatch} from './output-batch.js'
import {BackgroundOutputWriter} from './output-writer.js'

export type OutputStream = 'stdout' | 'stderr' | 'makima'

export interface OutputLine {
  seq: number
  ts: number
  stream: OutputStream
  line: string
}

const ROWS_PER_INSERT = 64
/** SQLite's default wal_autocheckpoint */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000

/**
 * The append-only output log of every task: each stream-json line claude printed, its stderr,
 * and makima's own progress lines, numbered per task. Writers queue lines and write them in one
 * transaction per batch (no per-line fsync), so ingestion keeps up with a chatty claude.
 *
 * A process that runs tasks can move the writing to a worker thread (startBackgroundWriter): the
 * SQLite inserts, commits and WAL checkpoints (most of the cost of a line, much of it waiting for
 * the disk) then run beside the thread that reads and parses claude's output.
 */
export class OutputStore {
  private readonly insertStmt
  /** INSERT of ROWS_PER_INSERT rows at once: far fewer calls into SQLite for a long batch */
  private readonly insertManyStmt
  private readonly maxSeqStmt
  private readonly readStmt
  private readonly writeBatchTx
  private pending: OutputBatch = emptyBatch()
  private background?: BackgroundOutputWriter

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare('INSERT INTO output (task_id, seq, ts, stream, line) VALUES (?, ?, ?, ?, ?)')
    this.insertManyStmt = db.prepare(`INSERT INTO output (task_id, seq, ts, stream, line) VALUES ${Array(ROWS_PER_INSERT).fill('(?, ?, ?, ?, ?)').join(', ')}`)
    this.maxSeqStmt = db.prepare('SELECT coalesce(max(seq), 0) AS n FROM output WHERE task_id = ?')
    this.readStmt = db.prepare('SELECT seq, ts, stream, line FROM output WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?')
    this.writeBatchTx = db.transaction((batch: OutputBatch) => this.insertRows(batch))
  }

  /** Queue a line; flush() or handOff() writes it (the runner does every tick and at the end). */
  push(taskId: string, stream: OutputStream, line: string): void {
    const batch = this.pending
    batch.taskIds.push(taskId)
    batch.streams.push(stream)
    batch.lines.push(line)
    batch.ts.push(Date.now())
  }

  get pendingCount(): number {
    return this.pending.lines.length
  }

  /**
   * Write what is queued in a worker thread from now on, when the worker can run here (it is
   * compiled to dist/; a file database). Idempotent; false when lines stay on this thread.
   */
  startBackgroundWriter(): boolean {
    if (!this.background) {
      this.background = BackgroundOutputWriter.start(this.db.name, this.db.memory)
      // Checkpoints are the checkpointer thread's now: a commit here (a state change) must not
      // stop to copy the writer's burst into the database file.
      if (this.background) this.db.pragma('wal_autocheckpoint = 0')
    }
    return this.background !== undefined
  }

  /**
   * Hand the queued lines to the background writer without waiting for them to be stored (the
   * hot path of a run); without a background writer, the same as flush().
   */
  handOff(): void {
    if (!this.background) {
      this.flush()
      return
    }
    if (this.pendingCount === 0) return
    const batch = this.pending
    this.pending = emptyBatch()
    this.background.post(batch)
  }

  /** Store every queued line (and every line handed off before) now; readers see them after this returns. */
  flush(): number {
    const count = this.pendingCount
    if (this.background) {
      this.handOff()
      this.background.waitUntilStored()
      return count
    }
    if (count === 0) return 0
    const batch = this.pending
    this.pending = emptyBatch()
    this.writeBatch(batch)
    return count
  }

  /** Insert a batch in one IMMEDIATE transaction (here, or in the background writer's thread). */
  writeBatch(batch: OutputBatch): void {
    this.writeBatchTx.immediate(batch)
  }

  /**
   * Inside the transaction: each run of lines of one task continues from the task's stored max
   * seq, read under the write lock, so writers in other processes never collide.
   */
  private insertRows(batch: OutputBatch): void {
    const {taskIds, streams, lines, ts} = batch
    let taskId: string | undefined
    let seq = 0
    const params: unknown[] = []
    for (let i = 0; i < lines.length; i++) {
      if (taskIds[i] !== taskId) {
        this.insertRest(params)
        taskId = taskIds[i]
        seq = (this.maxSeqStmt.get(taskId) as {n: number}).n + 1
      }
      params.push(taskId, seq++, ts[i], streams[i], lines[i])
      if (params.length === ROWS_PER_INSERT * 5) {
        this.insertManyStmt.run(params)
        params.length = 0
      }
    }
    this.insertRest(params)
  }

  private insertRest(params: unknown[]): void {
    for (let at = 0; at < params.length; at += 5) this.insertStmt.run(params.slice(at, at + 5))
    params.length = 0
  }

  /** Store what is queued and stop the background writer (Store.close). */
  close(): void {
    try {
      this.flush()
    } finally {
      if (this.background) {
        this.background.stop()
        this.background = undefined
        this.db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`)
      }
    }
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
