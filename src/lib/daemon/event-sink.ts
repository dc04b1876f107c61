import type {OutboxLimits, OutboxMessage, OutboxStore} from '../store/outbox-store.js'
import type {TaskEvent} from '../tasks/events.js'
import type {Logger} from './logger.js'

import type {OutgoingMessage} from './messages.js'

export type {OutgoingMessage} from './messages.js'

/**
 * Turns TaskEvents of daemon tasks into protocol messages and stores them in the outbox in
 * batches (one transaction per tick), then asks the connection to send. Per-task order is the
 * order of events, and the outbox keeps it.
 */
export class OutboxWriter {
  private queue: OutgoingMessage[] = []
  private timer?: NodeJS.Timeout

  constructor(
    private readonly outbox: OutboxStore,
    private readonly limits: OutboxLimits,
    /** the messages just stored, in seq order (the connection sends them) */
    private readonly onStored: (messages: OutboxMessage[]) => void,
    private readonly log: Logger,
    private readonly isDaemonTask: (taskId: string) => boolean,
    private readonly isSupervisor: (taskId: string) => boolean,
  ) {}

  /** The TaskManager sink. */
  onEvent = (event: TaskEvent): void => {
    if (!this.isDaemonTask(event.taskId)) return
    switch (event.type) {
      case 'output':
        if (event.stream === 'stdout') this.enqueueOutput(event.taskId, event.line)
        return
      case 'progress':
        this.enqueueOutput(event.taskId, event.message)
        return
      case 'status':
        this.enqueue({type: 'taskStatusChange', taskId: event.taskId, body: {taskId: event.taskId, oldStatus: event.oldState, newStatus: event.newState}})
        return
      case 'complete':
        if (this.isSupervisor(event.taskId)) return
        this.enqueue({
          type: 'taskComplete',
          taskId: event.taskId,
          body: {taskId: event.taskId, success: event.success, error: event.error ?? undefined, usage: event.usage?.runs ? event.usage : undefined},
        })
        this.flush() // completions are stored at once
        return
    }
  }

  /**
   * One line of output. A line longer than MAX_OUTPUT_CHUNK goes as several taskOutput messages,
   * every one but the last with isPartial: true (concatenated in order they are the line): one
   * huge message could exceed what the server accepts in a frame, and it would be resent forever.
   */
  private enqueueOutput(taskId: string, line: string): void {
    for (const [chunk, isPartial] of outputChunks(line)) this.enqueue({type: 'taskOutput', taskId, body: {taskId, output: chunk, isPartial}})
  }

  enqueue(message: OutgoingMessage): void {
    this.queue.push(message)
    if (this.queue.length >= 1000) this.flush()
    else this.timer ??= setTimeout(() => this.flush(), 20)
  }

  /** Store and send one message now (command answers). */
  sendNow(message: OutgoingMessage): void {
    this.queue.push(message)
    this.flush()
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    if (this.queue.length === 0) return
    const batch = this.queue
    this.queue = []
    const {messages, dropped} = this.outbox.append(batch, this.limits)
    if (dropped > 0) this.log('warn', `outbox full: dropped the ${dropped} oldest taskOutput messages`, {depth: this.outbox.depth})
    this.onStored(messages)
  }
}

/** Longest `output` of one taskOutput message, in UTF-16 code units (1 Mi). */
export const MAX_OUTPUT_CHUNK = 1024 * 1024

/** A line cut into chunks of at most MAX_OUTPUT_CHUNK, never inside a surrogate pair; [chunk, isPartial]. */
export function outputChunks(line: string, max = MAX_OUTPUT_CHUNK): [string, boolean][] {
  if (line.length <= max) return [[line, false]]
  const out: [string, boolean][] = []
  let at = 0
  while (line.length - at > max) {
    let end = at + max
    const code = line.charCodeAt(end - 1)
    if (code >= 0xd800 && code <= 0xdbff) end -= 1 // a high surrogate: keep the pair together
    out.push([line.slice(at, end), true])
    at = end
  }
  out.push([line.slice(at), false])
  return out
}
