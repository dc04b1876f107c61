/**
 * The terminal side of `makima top`: key presses decoded from raw-mode input, and a session that
 * puts the terminal into (and always back out of) full-screen raw mode.
 */
import {writeSync} from 'node:fs'

import {TERM} from './top-view.js'

/** 'up', 'down', 'enter', 'escape', 'ctrl-c', or the character typed ('p', 'q', 'y', ...). */
export type Key = string

const SEQUENCES: Record<string, Key> = {
  '\u001b[A': 'up',
  '\u001bOA': 'up',
  '\u001b[B': 'down',
  '\u001bOB': 'down',
  '\r': 'enter',
  '\n': 'enter',
  '\u0003': 'ctrl-c',
}

/** The keys in one chunk of raw-mode input (several when typed fast or pasted). */
export function decodeKeys(data: string): Key[] {
  const keys: Key[] = []
  let i = 0
  while (i < data.length) {
    const seq = Object.keys(SEQUENCES).find((s) => data.startsWith(s, i))
    if (seq) {
      keys.push(SEQUENCES[seq])
      i += seq.length
      continue
    }
    if (data[i] === '\u001b') {
      // another escape sequence (a function key, ...): skip it whole; a lone ESC is 'escape'
      // eslint-disable-next-line no-control-regex
      const m = /^\u001b(\[[0-9;?]*[ -/]*[@-~]|O.)/.exec(data.slice(i))
      if (m) i += m[0].length
      else {
        keys.push('escape')
        i++
      }
      continue
    }
    const ch = String.fromCodePoint(data.codePointAt(i)!)
    if (ch >= ' ') keys.push(ch)
    i += ch.length
  }
  return keys
}

export interface TerminalStreams {
  input: NodeJS.ReadStream
  output: NodeJS.WriteStream
}

/**
 * Full screen (alternate screen, hidden cursor) with raw-mode keys, and back. `leave` restores
 * the terminal and is safe to call twice; an exit of the process while inside restores it too.
 */
export class TerminalSession {
  private inside = false
  private listener?: (data: string) => void
  private readonly onExit = () => {
    if (this.inside) this.restoreSync()
  }

  constructor(private readonly streams: TerminalStreams) {}

  get active(): boolean {
    return this.inside
  }

  enter(onKey: (key: Key) => void): void {
    const {input, output} = this.streams
    if (!this.inside) {
      this.inside = true
      process.on('exit', this.onExit)
      output.write(TERM.enterAltScreen + TERM.hideCursor)
    }
    input.setRawMode(true)
    input.setEncoding('utf8')
    if (this.listener) input.off('data', this.listener)
    this.listener = (data: string) => {
      for (const key of decodeKeys(data)) onKey(key)
    }
    input.on('data', this.listener)
    input.resume()
  }

  /** Back to the normal screen with cursor and cooked input (keys are no longer read). */
  leave(): void {
    const {input, output} = this.streams
    if (this.listener) input.off('data', this.listener)
    this.listener = undefined
    if (input.isTTY) input.setRawMode(false)
    input.pause()
    if (!this.inside) return
    this.inside = false
    process.off('exit', this.onExit)
    output.write(TERM.leaveAltScreen + TERM.showCursor)
  }

  /** Waits for one key press in raw mode on the normal screen (e.g. "press any key"). */
  async anyKey(): Promise<Key> {
    const {input} = this.streams
    input.setRawMode(true)
    input.setEncoding('utf8')
    input.resume()
    try {
      const data = await new Promise<string>((resolve) => input.once('data', resolve))
      return decodeKeys(data)[0] ?? ''
    } finally {
      input.setRawMode(false)
      input.pause()
    }
  }

  write(text: string): void {
    this.streams.output.write(text)
  }

  private restoreSync(): void {
    try {
      if (this.streams.input.isTTY) this.streams.input.setRawMode(false)
      writeSync((this.streams.output as unknown as {fd: number}).fd ?? 1, TERM.leaveAltScreen + TERM.showCursor)
    } catch {
      // the terminal is gone
    }
    this.inside = false
  }
}
