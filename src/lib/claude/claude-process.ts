import {spawn, type ChildProcess} from 'node:child_process'
import {EventEmitter} from 'node:events'

import {userMessageLine} from './stream-event.js'

export interface ClaudeSpawnOptions {
  command: string
  args: string[]
  cwd: string
  env: Record<string, string>
}

export interface ClaudeExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** the last few KB of stderr, for the task's error */
  stderrTail: string
  /** set when the process could not be started at all */
  spawnError?: Error
}

const STDERR_TAIL_BYTES = 4096

/**
 * One running `claude` process: started detached (a process group of its own, so a Ctrl-C in
 * the user's terminal does not reach it and makima decides how it ends), stdout split into
 * lines, user messages written to stdin as stream-json.
 * Events: 'stdout' (line), 'stderr' (line), 'exit' (ClaudeExit).
 */
export class ClaudeProcess extends EventEmitter {
  readonly child: ChildProcess
  private stderrTail = ''
  private inputOpen = true
  private exited?: ClaudeExit
  readonly done: Promise<ClaudeExit>

  constructor(options: ClaudeSpawnOptions) {
    super()
    this.child = spawn(options.command, options.args, {
      cwd: options.cwd,
      env: options.env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.done = new Promise((resolve) => {
      let spawnError: Error | undefined
      this.child.once('error', (error) => {
        spawnError = error
        // 'close' does not always follow a failed spawn
        if (this.child.pid === undefined) finish(null, null)
      })
      const finish = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.exited) return
        this.exited = {code, signal, stderrTail: this.stderrTail.trim(), spawnError}
        this.inputOpen = false
        this.emit('exit', this.exited)
        resolve(this.exited)
      }
      this.child.once('close', finish)
      // A background process that inherited claude's stdout could keep 'close' from firing:
      // after 'exit', give the pipes a moment to drain, then stop waiting for them.
      this.child.once('exit', (code, signal) => {
        setTimeout(() => {
          this.child.stdout?.destroy()
          this.child.stderr?.destroy()
          finish(code, signal)
        }, 1500).unref()
      })
    })
    this.child.stdin?.on('error', () => {
      this.inputOpen = false // EPIPE: claude is gone; 'close' reports it
    })
    splitLines(this.child.stdout!, (line) => this.emit('stdout', line))
    splitLines(this.child.stderr!, (line) => {
      this.stderrTail = (this.stderrTail + line + '\n').slice(-STDERR_TAIL_BYTES)
      this.emit('stderr', line)
    })
  }

  get pid(): number | undefined {
    return this.child.pid
  }

  get acceptsInput(): boolean {
    return this.inputOpen && !this.exited
  }

  /** Write one user message; false when stdin is already closed. */
  send(text: string): boolean {
    if (!this.acceptsInput) return false
    this.child.stdin!.write(`${userMessageLine(text)}\n`)
    return true
  }

  /**
   * Ask Claude Code to stop the turn it is in: the agent SDK's `interrupt` control request. It
   * rejects the running tool, ends the turn with a `result` line (its cost and usage; a killed
   * claude prints none; checked with 2.1.197 and 2.1.332) and waits for input. false when stdin is
   * closed.
   */
  requestInterrupt(): boolean {
    if (!this.acceptsInput) return false
    this.child.stdin!.write(`${JSON.stringify({type: 'control_request', request_id: `makima-interrupt-${this.pid}`, request: {subtype: 'interrupt'}})}\n`)
    return true
  }

  closeInput(): void {
    if (!this.inputOpen) return
    this.inputOpen = false
    this.child.stdin?.end()
  }
}

/** Split a stream into lines without losing a partial last line. */
function splitLines(stream: NodeJS.ReadableStream, onLine: (line: string) => void): void {
  let rest = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    const text = rest + chunk
    let start = 0
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const line = text.slice(start, nl)
      if (line.length > 0) onLine(line.endsWith('\r') ? line.slice(0, -1) : line)
      start = nl + 1
    }
    rest = text.slice(start)
  })
  stream.on('end', () => {
    if (rest.length > 0) onLine(rest)
    rest = ''
  })
}
