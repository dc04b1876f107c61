import type {OutboxLimits, OutboxMessage, OutboxStore} from '../store/outbox-store.js'
import type {TaskEvent} from '../tasks/events.js'
import type {Logger} from './logger.js'

export interface OutgoingMessage {
  type: string
  taskId?: string | null
  body: Record<string, unknown>
}

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
        if (event.stream === 'stdout') this.enqueue({type: 'taskOutput', taskId: event.taskId, body: {taskId: event.taskId, output: event.line, isPartial: false}})
        return
      case 'progress':
        this.enqueue({type: 'taskOutput', taskId: event.taskId, body: {taskId: event.taskId, output: event.message, isPartial: false}})
        return
      case 'status':
        this.enqueue({type: 'taskStatusChange', taskId: event.taskId, body: {taskId: event.taskId, oldStatus: event.oldState, newStatus: event.newState}})
        return
      case 'complete':
        if (this.isSupervisor(event.taskId)) return
        this.enqueue({type: 'taskComplete', taskId: event.taskId, body: {taskId: event.taskId, success: event.success, error: event.error ?? undefined}})
        this.flush() // completions are stored at once
        return
    }
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
