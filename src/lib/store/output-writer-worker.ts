// The output writer thread (output-writer.ts): stores batches of task output lines with its own
// connection to the database, so SQLite's work runs beside the thread that reads claude's output.
// Loaded from dist/ by file name; it imports only the store.
import {parentPort, workerData, type MessagePort} from 'node:worker_threads'

import {BusySpell, retryWhileBusy} from './busy.js'
import {openDatabase} from './database.js'
import {OutputStore} from './output-store.js'
import type {OutputBatch} from './output-batch.js'
import {BUSY, FAILED, STORED, WRITTEN_KB} from './output-writer.js'

const {file, state, errors} = workerData as {file: string; state: Int32Array; errors: MessagePort}
// While another process holds the write lock, a batch is tried again (the next ones wait in this
// thread's queue); the main thread reads BUSY to tell people and to bound what waits (busy.ts).
const tell = (busyMs: number) => {
  Atomics.store(state, BUSY, busyMs)
  Atomics.notify(state, STORED) // a flush() waiting for this thread looks again
}
const spell = new BusySpell(file, {busy: (_, since) => tell(Math.max(1, Date.now() - since)), free: () => tell(0)})
let db: ReturnType<typeof openDatabase> | undefined
let output: OutputStore | undefined
let openError: string | undefined
try {
  db = openDatabase(file)
  // The checkpointer thread copies the log into the database file (wal-checkpointer-worker.ts).
  db.pragma('wal_autocheckpoint = 0')
  output = new OutputStore(db)
} catch (error) {
  // Every batch then fails with this reason (a throw here would leave flush() waiting).
  openError = error instanceof Error ? error.message : String(error)
}

parentPort!.on('message', (message: {n: number; batch: OutputBatch} | {close: true}) => {
  if ('close' in message) {
    db?.close()
    parentPort!.close()
    errors.close()
    return
  }
  try {
    if (!output || !db) throw new Error(openError)
    const store = output
    retryWhileBusy(db, () => store.writeBatch(message.batch), spell)
    let chars = 0
    for (const line of message.batch.lines) chars += line.length
    Atomics.add(state, WRITTEN_KB, Math.ceil(chars / 1024))
  } catch (error) {
    errors.postMessage(error instanceof Error ? error.message : String(error))
    Atomics.store(state, FAILED, message.n)
  }
  Atomics.store(state, STORED, message.n)
  Atomics.notify(state, STORED)
})
