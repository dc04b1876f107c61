// The WAL checkpointer thread (output-writer.ts): while the output writer thread appends a burst of
// task output to the write-ahead log with its automatic checkpoints turned off, this thread copies
// the log into the database file beside it, so the writer never stops to wait for the disk.
// Loaded from dist/ by file name.
import {parentPort, workerData} from 'node:worker_threads'

import {openDatabase} from './database.js'
import {CHECKPOINTED, WRITTEN_KB} from './output-writer.js'

/** Checkpoint once the writer has stored this much output since the last checkpoint... */
const THRESHOLD_KB = 16 * 1024
/** ...or anything at all this long ago. */
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
  db = undefined
}
let checkpointedKb = 0
let lastCheckpoint = Date.now()
const timer = setInterval(() => {
  const written = Atomics.load(state, WRITTEN_KB)
  const fresh = written - checkpointedKb
  if (!db || fresh <= 0 || (fresh < THRESHOLD_KB && Date.now() - lastCheckpoint < SETTLE_MS)) return
  checkpoint(db)
  checkpointedKb = written
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
