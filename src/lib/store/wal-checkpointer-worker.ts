// The WAL checkpointer thread (output-writer.ts): while the output writer thread appends a burst of
// task output to the write-ahead log with its automatic checkpoints turned off, this thread copies
// the log into the database file beside it, so the writer never stops to wait for the disk.
// Loaded from dist/ by file name.
import {parentPort, workerData} from 'node:worker_threads'

import {openDatabase} from './database.js'
import {CHECKPOINTED, WRITTEN_KB} from './output-writer.js'

/** Checkpoint once the writer has stored this much output since the last checkpoint... */
const THRESHOLD_KB = 16 * 1024
/**
 * ...or, this long after the last one, when anything at all was written since: other output, or
 * any other commit to the database (this process's own connection no longer checkpoints).
 */
const SETTLE_MS = 1000
const LOOK_EVERY_MS = 50

const {file, state} = workerData as {file: string; state: Int32Array}

/** PASSIVE: copies what it can without waiting for readers or the writer; never blocks either. */
function checkpoint(db: ReturnType<typeof openDatabase>): void {
  try {
    db.pragma('wal_checkpoint(PASSIVE)')
  } catch {
    // An optimisation only: the other connections' automatic checkpoints still run.
  }
}

let db: ReturnType<typeof openDatabase> | undefined
try {
  db = openDatabase(file)
} catch {
  // Nothing to do then: the other connections' automatic checkpoints still run.
}

let checkpointedKb = 0
// Unknown at first: what was committed before this thread opened its connection counts too.
let checkpointedVersion = -1
let lastCheckpoint = Date.now()
const timer = setInterval(() => {
  if (!db) return
  const written = Atomics.load(state, WRITTEN_KB)
  // SQLite's data_version changes whenever another connection commits.
  const version = db.pragma('data_version', {simple: true}) as number
  const due = written - checkpointedKb >= THRESHOLD_KB || (version !== checkpointedVersion && Date.now() - lastCheckpoint >= SETTLE_MS)
  if (!due) return
  checkpoint(db)
  checkpointedKb = written
  checkpointedVersion = version
  lastCheckpoint = Date.now()
}, LOOK_EVERY_MS)

parentPort!.on('message', () => {
  clearInterval(timer)
  if (db) {
    checkpoint(db)
    db.close()
  }
  Atomics.store(state, CHECKPOINTED, 1)
  Atomics.notify(state, CHECKPOINTED)
  parentPort!.close()
})
