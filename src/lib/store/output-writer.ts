import {existsSync} from 'node:fs'
import {createRequire} from 'node:module'
import path from 'node:path'
import type {MessagePort, Worker} from 'node:worker_threads'

import {packageRoot} from '../../package-root.js'
import {MakimaError} from '../errors.js'

const require = createRequire(import.meta.url)

/** Queued output lines, column by column (one array of strings clones far faster than objects). */
export interface OutputBatch {
  taskIds: string[]
  streams: string[]
  lines: string[]
  ts: number[]
}

/** Slots of the shared Int32Array: the number of the last batch stored, and of the last that failed. */
export const STORED = 0
export const FAILED = 1

/** How long flush() waits for the worker before it gives up (a disk that stopped answering). */
const STORE_TIMEOUT_MS = 120_000

/**
 * The main-thread side of the output writer thread (output-writer-worker.ts). Batches are posted
 * in order and stored in order, one transaction each; the worker counts stored batches in
 * shared memory, so waitUntilStored() can block without the event loop (flush() stays
 * synchronous for its callers) and a failure is read from a port synchronously too.
 */
export class BackgroundOutputWriter {
  private posted = 0
  private readonly state = new Int32Array(new SharedArrayBuffer(8))
  private readonly worker: Worker
  private readonly errors: MessagePort
  /** set when the worker thread ended or could not start (seen between turns of the event loop) */
  private ended?: string

  /** undefined when there is no compiled worker (tests from src/ without a build) or no file. */
  static start(file: string, inMemory: boolean): BackgroundOutputWriter | undefined {
    if (inMemory || !file) return undefined
    const script = path.join(packageRoot(), 'dist', 'lib', 'store', 'output-writer-worker.js')
    if (!existsSync(script)) return undefined
    return new BackgroundOutputWriter(script, file)
  }

  private constructor(
    script: string,
    private readonly file: string,
  ) {
    const threads = require('node:worker_threads') as typeof import('node:worker_threads')
    const channel = new threads.MessageChannel()
    this.errors = channel.port1
    this.worker = new threads.Worker(script, {
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
    this.worker.postMessage({n: ++this.posted, batch})
  }

  /** Block until every posted batch is stored (or failed: then throw). */
  waitUntilStored(): void {
    const deadline = Date.now() + STORE_TIMEOUT_MS
    for (;;) {
      const stored = Atomics.load(this.state, STORED)
      if (stored >= this.posted) break
      if (this.ended) throw new MakimaError('INTERNAL', `the task output writer stopped (${this.ended}); ${this.posted - stored} batches of output lines were not stored`)
      const left = deadline - Date.now()
      if (left <= 0 || Atomics.wait(this.state, STORED, stored, left) === 'timed-out') {
        throw new MakimaError('INTERNAL', `the task output writer stored ${stored} of ${this.posted} batches in ${STORE_TIMEOUT_MS / 1000} s; is ${this.file} on a disk that stopped answering?`)
      }
    }
    this.throwIfFailed()
  }

  private throwIfFailed(): void {
    if (Atomics.load(this.state, FAILED) === 0) return
    const threads = require('node:worker_threads') as typeof import('node:worker_threads')
    const message = threads.receiveMessageOnPort(this.errors)?.message as string | undefined
    Atomics.store(this.state, FAILED, 0)
    throw new MakimaError('INTERNAL', `storing task output failed: ${message ?? 'unknown error'}`)
  }

  /** Let the worker close its connection and end (after waitUntilStored). */
  stop(): void {
    this.worker.postMessage({close: true})
  }
}
