import {BUSY_TIMEOUT_MS, BusySpell, isBusy, isBusyOrGaveUp, retryWhileBusy, withBusyTimeout} from './busy.js'
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
 * handOff() on this thread waits at most this long for another connection's write lock (longer,
 * the lines wait in memory for a later call, and the caller goes on reading output)...
 */
const HAND_OFF_WAIT_MS = Math.min(1000, BUSY_TIMEOUT_MS)
/** ...and while the database stays busy, tries again at most this often, waiting this long. */
const BUSY_RETRY_EVERY_MS = 1000
const BUSY_RETRY_WAIT_MS = 50

/**
 * The append-only output log of every task: each stream-json line claude printed, its stderr,
 * and makima's own progress lines, numbered per task. Writers queue lines and write them in one
 * transaction per batch (no per-line fsync), so ingestion keeps up with a chatty claude.
 *
 * A process that runs tasks can move the writing to a worker thread (startBackgroundWriter): the
 * SQLite inserts, commits and WAL checkpoints (most of the cost of a line, much of it waiting for
 * the disk) then run beside the thread that reads and parses claude's output.
 *
 * While another process holds the database's write lock, lines wait in memory (on this thread, or
 * in the writer thread's queue) and are stored once it is free; only a wait past busy.ts's budget
 * or memory bound makes a write throw.
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
  /** this thread's writes while the database is busy */
  private readonly spell: BusySpell
  private lastTry = 0
  /** how many queued lines are counted in queuedChars (counted only while the database is busy) */
  private countedLines = 0
  private countedChars = 0

  constructor(private readonly db: Db) {
    this.insertStmt = db.prepare('INSERT INTO output (task_id, seq, ts, stream, line) VALUES (?, ?, ?, ?, ?)')
    this.insertManyStmt = db.prepare(`INSERT INTO output (task_id, seq, ts, stream, line) VALUES ${Array(ROWS_PER_INSERT).fill('(?, ?, ?, ?, ?)').join(', ')}`)
    this.maxSeqStmt = db.prepare('SELECT coalesce(max(seq), 0) AS n FROM output WHERE task_id = ?')
    this.readStmt = db.prepare('SELECT seq, ts, stream, line FROM output WHERE task_id = ? AND seq > ? ORDER BY seq LIMIT ?')
    this.writeBatchTx = db.transaction((batch: OutputBatch) => this.insertRows(batch))
    this.spell = new BusySpell(db.name)
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
      this.storeQueued(false)
      return
    }
    if (this.pendingCount === 0) return this.background.watchBusy()
    this.background.post(this.takePending())
  }

  /** Store every queued line (and every line handed off before) now; readers see them after this returns. */
  flush(): number {
    const count = this.pendingCount
    if (this.background) {
      this.handOff()
      this.background.waitUntilStored()
      return count
    }
    this.storeQueued(true)
    return count
  }

  /**
   * Store the queued lines on this thread. While the database is busy they stay queued: flush()
   * (`wait`) tries again until they are stored; handOff() waits only briefly and tries again at
   * its next calls, so the caller goes on reading output meanwhile. Lines SQLite refuses for
   * another reason are dropped (and the error thrown).
   */
  private storeQueued(wait: boolean): void {
    if (this.pendingCount === 0) return
    const batch = this.pending
    const startedAt = Date.now()
    try {
      if (wait) retryWhileBusy(this.db, () => this.writeBatch(batch), this.spell)
      else if (this.spell.busy && startedAt - this.lastTry < BUSY_RETRY_EVERY_MS) return this.spell.failed(startedAt, this.queuedChars())
      else {
        this.lastTry = startedAt
        withBusyTimeout(this.db, this.spell.busy ? BUSY_RETRY_WAIT_MS : HAND_OFF_WAIT_MS, () => this.writeBatch(batch))
      }
    } catch (error) {
      if (!isBusyOrGaveUp(error)) this.takePending()
      if (!isBusy(error)) throw error
      this.spell.failed(startedAt, this.queuedChars()) // throws past the budget or the memory bound
      return
    }
    this.spell.ended()
    this.takePending()
  }

  private takePending(): OutputBatch {
    const batch = this.pending
    this.pending = emptyBatch()
    this.countedLines = 0
    this.countedChars = 0
    return batch
  }

  /** Characters of the queued lines (counted on from the last call: only while the database is busy). */
  private queuedChars(): number {
    const {lines} = this.pending
    for (; this.countedLines < lines.length; this.countedLines++) this.countedChars += lines[this.countedLines].length
    return this.countedChars
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
    return this.db.prepare('SELECT seq, ts, stream, line FROM output WHERE task_id = ? AND stream = ? ORDER BY seq DESC LIMIT 1').get(taskId, stream) as OutputLine | undefined
  }

  count(taskId: string): number {
    return (this.db.prepare('SELECT count(*) AS n FROM output WHERE task_id = ?').get(taskId) as {n: number}).n
  }
}
