import type {TaskEvent} from '../tasks/events.js'
import {parseStreamLine} from '../claude/stream-event.js'
import type {OutputLine} from '../store/output-store.js'
import {TranscriptRenderer} from './transcript.js'

const FLUSH_BYTES = 64 * 1024

export interface ViewOptions {
  out: NodeJS.WritableStream
  color: boolean
  width?: number
  /** print stream-json lines as they are instead of the transcript */
  raw?: boolean
  /** write each line at once (CI logs: no batching per turn of the event loop) */
  lineByLine?: boolean
}

/** Whether to use color on a stream: a TTY and no NO_COLOR. */
export function useColor(stream: NodeJS.WritableStream & {isTTY?: boolean}, env: Record<string, string | undefined>): boolean {
  return Boolean(stream.isTTY) && env.NO_COLOR === undefined && env.TERM !== 'dumb'
}

/**
 * Renders a task for people: makima's progress lines, the transcript of Claude Code's output,
 * and the outcome. Used live (TaskEvents of an attached spawn) and after the fact (stored lines
 * of `task logs`), so both look the same.
 */
export class TaskView {
  private readonly transcript: TranscriptRenderer
  /** while a listr2 list shows the set-up steps, progress lines are not printed again */
  quietProgress = false
  /** Claude Code's total cost in USD, from its last result event (null until one came) */
  costUsd: number | null = null
  private buffered = ''
  private scheduled?: NodeJS.Immediate

  constructor(private readonly options: ViewOptions) {
    this.transcript = new TranscriptRenderer({color: options.color, width: options.width})
  }

  /**
   * Lines are collected and written together (a chatty claude prints thousands of lines a
   * second; one write each costs more than the rest of their handling), at the latest on the
   * next turn of the event loop. flush() writes what is waiting now.
   */
  private write(lines: string[]): void {
    if (lines.length === 0) return
    this.buffered += `${lines.join('\n')}\n`
    if (this.options.lineByLine || this.buffered.length >= FLUSH_BYTES) this.flush()
    else this.scheduled ??= setImmediate(() => this.flush())
  }

  flush(): void {
    if (this.scheduled) clearImmediate(this.scheduled)
    this.scheduled = undefined
    if (this.buffered === '') return
    const text = this.buffered
    this.buffered = ''
    this.options.out.write(text)
  }

  /** A live event. */
  onEvent = (event: TaskEvent): void => {
    switch (event.type) {
      case 'progress':
        if (!this.options.raw && !this.quietProgress) this.write([this.transcript.renderProgress(event.message)])
        return
      case 'output':
        if (event.stream !== 'stdout') return
        if (event.event?.kind === 'result' && event.event.costUsd !== null) this.costUsd = event.event.costUsd
        this.write(this.options.raw ? [event.line] : this.transcript.render(event.event))
        return
      case 'status':
        if (!this.options.raw && (event.newState === 'paused' || (event.oldState === 'paused' && event.newState === 'running'))) {
          this.write([this.transcript.renderProgress(event.newState === 'paused' ? 'Paused' : 'Resumed')])
        }
        return
      case 'complete':
        return
    }
  }

  /** A stored line (`task logs`). */
  onStoredLine(line: OutputLine): void {
    if (line.stream === 'stderr') return
    if (line.stream === 'makima') {
      if (!this.options.raw) this.write([this.transcript.renderProgress(line.line)])
      return
    }
    const event = parseStreamLine(line.line)
    if (event?.kind === 'result' && event.costUsd !== null) this.costUsd = event.costUsd
    this.write(this.options.raw ? [line.line] : this.transcript.render(event))
  }
}
