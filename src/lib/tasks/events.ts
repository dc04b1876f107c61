import {parseStreamLine, type ClaudeEvent} from '../claude/stream-event.js'
import type {OutputStream} from '../store/output-store.js'
import type {FailureKind, TaskRecord, TaskState} from '../store/task-record.js'
import type {TaskUsage} from '../store/usage-store.js'

/**
 * What a TaskManager tells its sinks. The CLI renders them for people; the daemon turns them into
 * protocol messages. The manager knows nothing of either.
 */
export type TaskEvent =
  | {type: 'status'; taskId: string; oldState: TaskState; newState: TaskState; task: TaskRecord}
  | OutputEvent
  | {type: 'progress'; taskId: string; message: string}
  | {type: 'complete'; taskId: string; success: boolean; error: string | null; failureKind: FailureKind | null; task: TaskRecord; usage?: TaskUsage}

export type TaskEventSink = (event: TaskEvent) => void

/**
 * A line of a task's output. `event` is the line parsed, on first use: a run parses only the
 * lines that can change its course (routine-line.ts), so sinks that only pass the
 * line on (the daemon's outbox) never pay for parsing the bulk of a transcript.
 */
export class OutputEvent {
  readonly type = 'output'
  private parsed?: ClaudeEvent

  constructor(
    readonly taskId: string,
    readonly stream: OutputStream,
    readonly line: string,
  ) {}

  get event(): ClaudeEvent {
    this.parsed ??= parseStreamLine(this.line)
    return this.parsed
  }
}
