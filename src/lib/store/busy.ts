// What makima does when the database is busy: another process (a backup tool, an `sqlite3`
// shell, a stuck makima process) holds its write lock longer than SQLite's busy timeout. A busy
// database slows makima down, it never fails a task: writes wait and try again, task output waits
// in memory, and a person reads one line when the wait starts and one when it ends. Only a wait
// past BUSY_BUDGET_MS (or more than MAX_BUFFERED_BYTES of output waiting) is a failure.
import {MakimaError} from '../errors.js'
import type BetterSqlite3 from 'better-sqlite3'

type Db = BetterSqlite3.Database

/** Internal knobs for tests only (MAKIMA_TEST_*): a person never needs them. */
function testOverride(name: string, value: number): number {
  const raw = process.env[name]
  const n = raw === undefined || raw === '' ? Number.NaN : Number(raw)
  return Number.isFinite(n) && n >= 0 ? n : value
}

/** How long one statement waits for another connection's write lock (SQLite's busy_timeout). */
export const BUSY_TIMEOUT_MS = testOverride('MAKIMA_TEST_BUSY_TIMEOUT_MS', 10_000)
/** How long makima goes on trying while the database stays busy before the write fails. */
export const BUSY_BUDGET_MS = testOverride('MAKIMA_TEST_BUSY_BUDGET_MS', 5 * 60_000)
/** How much task output a process keeps in memory while the database is busy, at most. */
export const MAX_BUFFERED_BYTES = testOverride('MAKIMA_TEST_MAX_BUFFERED_BYTES', 256 * 1024 * 1024)
/**
 * A wait shorter than this is ordinary traffic (other writers' transactions) and is not announced;
 * a first try that used the whole busy timeout always passes it.
 */
const NOTICE_AFTER_MS = Math.min(BUSY_TIMEOUT_MS / 2, 2000)

/** SQLITE_BUSY and its extended codes: another connection holds the lock. */
export function isBusy(error: unknown): boolean {
  const code = (error as {code?: unknown} | null)?.code
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY')
}

/** A busy database, or makima giving up on one (the writes that failed may be tried again later). */
export function isBusyOrGaveUp(error: unknown): boolean {
  return isBusy(error) || (error instanceof MakimaError && error.details?.database === 'busy')
}

/** Who hears that a database turned busy and that it is free again. */
export interface BusyNotices {
  /** the database turned busy: the write that failed started at `since` */
  busy(file: string, since: number): void
  free(file: string): void
}

const waitingSince = new Map<string, number>()

/** This thread's notices: one line on stderr when a database turns busy, one when it is free again. */
export const stderrNotices: BusyNotices = {
  busy(file, since) {
    if (waitingSince.has(file)) return
    waitingSince.set(file, since)
    process.stderr.write(`makima: waiting for the database ${file}: another process holds its write lock (makima waits up to ${duration(BUSY_BUDGET_MS)})\n`)
  },
  free(file) {
    const since = waitingSince.get(file)
    if (since === undefined) return
    waitingSince.delete(file)
    process.stderr.write(`makima: the database ${file} is free again after ${duration(Date.now() - since)}\n`)
  },
}

/**
 * One stretch of time during which writes to a database failed as busy: tells the notices when it
 * starts and ends, and throws once it has lasted the budget or holds too much output.
 */
export class BusySpell {
  private since?: number
  private announced = false

  constructor(
    private readonly file: string,
    private readonly notices: BusyNotices = stderrNotices,
  ) {}

  get busy(): boolean {
    return this.since !== undefined
  }

  /** Busy for the whole budget: writes from now on try once, without waiting (until one goes through). */
  get expired(): boolean {
    return this.since !== undefined && Date.now() - this.since >= BUSY_BUDGET_MS
  }

  /**
   * A write that started at `startedAt` failed as busy; `bufferedBytes` of output wait for it.
   * Throws a MakimaError naming the file past the budget or the memory bound.
   */
  failed(startedAt: number, bufferedBytes = 0): void {
    this.since ??= startedAt
    const busyMs = Date.now() - this.since
    if (!this.announced && busyMs >= NOTICE_AFTER_MS) {
      this.announced = true
      this.notices.busy(this.file, this.since)
    }
    const holder = `find the process that holds it (fuser ${this.file}) and end it`
    if (busyMs >= BUSY_BUDGET_MS) {
      throw new MakimaError('FAILED', `the database ${this.file} has been locked by another process for ${duration(busyMs)}; ${holder}`, {details: {database: 'busy'}})
    }
    if (bufferedBytes > MAX_BUFFERED_BYTES) {
      const mb = Math.round(bufferedBytes / 1024 / 1024)
      throw new MakimaError(
        'FAILED',
        `${mb} MB of task output is waiting in memory for the database ${this.file}, locked by another process for ${duration(busyMs)} (makima keeps at most ${Math.round(MAX_BUFFERED_BYTES / 1024 / 1024)} MB); ${holder}`,
        {details: {database: 'busy'}},
      )
    }
  }

  /** A write went through: the spell is over. */
  ended(): void {
    if (this.since === undefined) return
    this.since = undefined
    if (this.announced) this.notices.free(this.file)
    this.announced = false
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4))

/**
 * Run a write (a statement or a whole transaction), trying again while the database is busy, for
 * up to BUSY_BUDGET_MS; each try waits up to BUSY_TIMEOUT_MS inside SQLite. Inside a transaction
 * it only runs the write: the transaction as a whole is what can be tried again.
 */
export function retryWhileBusy<T>(db: Db, write: () => T, spell = new BusySpell(db.name)): T {
  if (db.inTransaction) return write()
  for (;;) {
    const startedAt = Date.now()
    try {
      const result = spell.expired ? withBusyTimeout(db, 0, write) : write()
      spell.ended()
      return result
    } catch (error) {
      if (!isBusy(error)) throw error
      spell.failed(startedAt)
      // Never a busy loop, even with a tiny busy timeout (tests).
      if (Date.now() - startedAt < 50) Atomics.wait(pause, 0, 0, 50)
    }
  }
}

/** Run fn with another busy timeout on this connection (a try that must not hold up its thread). */
export function withBusyTimeout<T>(db: Db, ms: number, fn: () => T): T {
  db.pragma(`busy_timeout = ${ms}`)
  try {
    return fn()
  } finally {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
  }
}

function duration(ms: number): string {
  if (ms < 90_000) return `${Math.round(ms / 1000)} s`
  return `${Math.round(ms / 60_000)} min`
}
