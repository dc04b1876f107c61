// The output writer thread (output-writer.ts): stores batches of task output lines with its own
// connection to the database, so SQLite's work runs beside the thread that reads claude's output.
// Loaded from dist/ by file name; it imports only the store.
import {parentPort, workerData, type MessagePort} from 'node:worker_threads'

import {openDatabase} from './database.js'
import {OutputStore} from './output-store.js'
import type {OutputBatch} from './output-batch.js'
import {FAILED, STORED, WRITTEN_KB} from './output-writer.js'

const {file, state, errors} = workerData as {file: string; state: Int32Array; errors: MessagePort}
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
    if (!output) throw new Error(openError)
    output.writeBatch(message.batch)
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
