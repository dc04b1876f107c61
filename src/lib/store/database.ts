import {createRequire} from 'node:module'

import type BetterSqlite3 from 'better-sqlite3'

import {BUSY_TIMEOUT_MS, retryWhileBusy} from './busy.js'
import {databaseError} from './database-errors.js'
import {prepareDatabaseFile} from './database-file.js'
import {MIGRATIONS} from './schema.js'

export type Db = BetterSqlite3.Database

const require = createRequire(import.meta.url)

export const PAGE_SIZE = 65_536

/**
 * Open (creating if needed, mode 0600) the SQLite database shared by every makima process on the
 * machine: WAL so readers never block the writer, a busy timeout so writers queue instead of
 * failing (and busy.ts past it), and the migrations applied. A database that cannot be used (a
 * directory that is not writable, a damaged file) is a MakimaError that names the file and the fix.
 */
export function openDatabase(file: string): Db {
  const Database = require('better-sqlite3') as typeof BetterSqlite3
  let db: Db | undefined
  try {
    if (file !== ':memory:') prepareDatabaseFile(file)
    db = new Database(file)
    configure(db)
    return db
  } catch (error) {
    db?.close()
    throw databaseError(file, error)
  }
}

function configure(db: Db): void {
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
  // Large pages for a new database (no effect on an existing one): most of what makima stores is
  // task output, hundreds of bytes to tens of KB a line, and 64 KiB pages store it with ~35% less
  // CPU and I/O than 4 KiB ones (npm run bench, ingestion).
  db.pragma(`page_size = ${PAGE_SIZE}`)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  // After a burst of output the log is reset, and cut back to this size (it does not stay as big as the burst).
  db.pragma('journal_size_limit = 67108864')
  db.pragma('foreign_keys = ON')
  migrate(db)
}

export function schemaVersion(db: Db): number {
  return db.pragma('user_version', {simple: true}) as number
}

function migrate(db: Db): void {
  if (schemaVersion(db) >= MIGRATIONS.length) return
  // Two processes may open a new database at once: take the write lock, then re-check.
  immediate(db, () => {
    let version = schemaVersion(db)
    for (; version < MIGRATIONS.length; version++) db.exec(MIGRATIONS[version])
    db.pragma(`user_version = ${version}`)
  })
}

/**
 * Run fn inside BEGIN IMMEDIATE (the write lock is taken up front, so counts read inside stay
 * true); while another process holds the lock, wait and try again (busy.ts).
 */
export function immediate<T>(db: Db, fn: () => T): T {
  return retryWhileBusy(db, () => {
    db.exec('BEGIN IMMEDIATE')
    try {
      const result = fn()
      db.exec('COMMIT')
      return result
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK')
      throw error
    }
  })
}
