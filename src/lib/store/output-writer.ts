import {existsSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'
import type {MessagePort, Worker} from 'node:worker_threads'

import {packageRoot} from '../package-root.js'
import {MakimaError} from '../errors.js'
import {BusySpell} from './busy.js'
import type {OutputBatch} from './output-batch.js'

// Loaded with the first writer: every command that opens the store imports this module.
const require = createRequire(import.meta.url)
const threads = () => require('node:worker_threads') as typeof import('node:worker_threads')

/**
 * Slots of the shared Int32Array: the number of the last batch stored, of the last that failed,
 * the KiB of output stored so far (what the checkpointer watches), 1 once the checkpointer has
 * made its last checkpoint, and while the writer waits for a busy database (busy.ts), how many
 * ms it had waited when it said so (0 otherwise).
 */
export const STORED = 0
export const FAILED = 1
export const WRITTEN_KB = 2
export const CHECKPOINTED = 3
export const BUSY = 4
const SLOTS = 5

/**
 * How long flush() waits for the worker before it gives up (a disk that stopped answering); a
 * busy database is waited for longer (the writer gives up itself, past busy.ts's budget).
 */
const STORE_TIMEOUT_MS = 120_000
/** How often a waiting flush() looks whether the writer waits for a busy database. */
const WATCH_MS = 1000
/** How long stop() waits for the checkpointer's last checkpoint (so the next process does not pay for it). */
const LAST_CHECKPOINT_MS = 10_000

/**
 * The main-thread side of the output writer thread (output-writer-worker.ts) and of the WAL
 * checkpointer thread beside it (wal-checkpointer-worker.ts). Batches are posted in order and
 * stored in order, one transaction each; the writer counts stored batches in shared memory, so
 * waitUntilStored() can block without the event loop (flush() stays synchronous for its callers)
 * and a failure is read from a port synchronously too. The writer's connection does not
 * checkpoint: copying the log into the database file (and waiting for the disk) is the other
 * thread's job, so a burst of output is stored at the speed SQLite appends it.
 */
export class BackgroundOutputWriter {
  private posted = 0
  private readonly state = new Int32Array(new SharedArrayBuffer(4 * SLOTS))
  /** the writer thread's wait for a busy database, as this thread tells it (and bounds it) */
  private readonly spell: BusySpell
  /** characters of output posted while the writer waits for a busy database */
  private bufferedWhileBusy = 0
  private readonly worker: Worker
  private readonly checkpointer: Worker
  private readonly errors: MessagePort
  /** set when the worker thread ended or could not start (seen between turns of the event loop) */
  private ended?: string

  /** undefined when there is no compiled worker (tests from src/ without a build) or no file. */
  static start(file: string, inMemory: boolean): BackgroundOutputWriter | undefined {
    if (inMemory || !file) return undefined
    const script = path.join(packageRoot(), 'dist', 'lib', 'store', 'output-writer-worker.js')
    if (!existsSync(script)) return undefined
    return new BackgroundOutputWriter(path.dirname(script), file)
  }

  private constructor(
    dir: string,
    private readonly file: string,
  ) {
    this.spell = new BusySpell(file)
    const {MessageChannel, Worker} = threads()
    this.checkpointer = new Worker(path.join(dir, 'wal-checkpointer-worker.js'), {workerData: {file, state: this.state}, stdout: false, stderr: false})
    this.checkpointer.on('error', () => Atomics.store(this.state, CHECKPOINTED, 1))
    this.checkpointer.unref()
    const channel = new MessageChannel()
    this.errors = channel.port1
    this.worker = new Worker(path.join(dir, 'output-writer-worker.js'), {
      workerData: {file, state: this.state, errors: channel.port2},
      transferList: [channel.port2],
      // stdout/stderr of the worker would need this thread's event loop: it writes neither
      stdout: false,
      stderr: false,
    })
    this.worker.on('error', (error) => (this.ended ??= error.message))
    this.worker.on('exit', (code) => (this.ended ??= `the thread exited with code ${code}`))
    // Never what keeps a process alive: close() (Store.close) stores what is left first.
    this.worker.unref()
    this.errors.unref()
  }

  post(batch: OutputBatch): void {
    this.throwIfFailed()
    if (this.ended) throw new MakimaError('INTERNAL', `the task output writer stopped (${this.ended})`)
    this.watchBusy(batch)
    this.worker.postMessage({n: ++this.posted, batch})
  }

  /**
   * While the writer thread waits for a busy database: say so (once), count the output that waits
   * in its queue, and throw past busy.ts's bounds; once it is free again, say that.
   */
  watchBusy(batch?: OutputBatch): void {
    const busyMs = Atomics.load(this.state, BUSY)
    if (busyMs === 0) {
      this.bufferedWhileBusy = 0
      this.spell.ended()
      return
    }
    if (batch) for (const line of batch.lines) this.bufferedWhileBusy += line.length
    this.spell.failed(Date.now() - busyMs, this.bufferedWhileBusy)
  }

  /** Block until every posted batch is stored (or failed: then throw). */
  waitUntilStored(): void {
    let deadline = Date.now() + STORE_TIMEOUT_MS
    for (;;) {
      const stored = Atomics.load(this.state, STORED)
      if (stored >= this.posted) break
      if (this.ended) throw new MakimaError('INTERNAL', `the task output writer stopped (${this.ended}); ${this.posted - stored} batches of output lines were not stored`)
      this.watchBusy()
      if (this.spell.busy) deadline = Date.now() + STORE_TIMEOUT_MS
      const left = deadline - Date.now()
      if (left <= 0) {
        throw new MakimaError('INTERNAL', `the task output writer stored ${stored} of ${this.posted} batches in ${STORE_TIMEOUT_MS / 1000} s; is ${this.file} on a disk that stopped answering?`)
      }
      Atomics.wait(this.state, STORED, stored, Math.min(left, WATCH_MS))
    }
    this.throwIfFailed()
    this.watchBusy()
  }

  private throwIfFailed(): void {
    if (Atomics.load(this.state, FAILED) === 0) return
    const message = threads().receiveMessageOnPort(this.errors)?.message as string | undefined
    Atomics.store(this.state, FAILED, 0)
    throw new MakimaError('INTERNAL', `storing task output failed: ${message ?? 'unknown error'}`)
  }

  /**
   * Let both threads close their connections and end (after waitUntilStored); waits a while for
   * the last checkpoint, which would otherwise fall to the next process that writes.
   */
  stop(): void {
    this.worker.postMessage({close: true})
    this.checkpointer.postMessage('close')
    Atomics.wait(this.state, CHECKPOINTED, 0, LAST_CHECKPOINT_MS)
  }
}
