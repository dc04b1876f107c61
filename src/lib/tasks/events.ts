import type {ClaudeEvent} from '../claude/stream-event.js'
import type {OutputStream} from '../store/output-store.js'
import type {TaskRecord, TaskState} from '../store/task-record.js'

/**
 * What a TaskManager tells its sinks. The CLI renders them for people; the daemon turns them into
 * protocol messages. The manager knows nothing of either.
 */
export type TaskEvent =
  | {type: 'status'; taskId: string; oldState: TaskState; newState: TaskState; task: TaskRecord}
  | {type: 'output'; taskId: string; stream: OutputStream; line: string; event?: ClaudeEvent}
  | {type: 'progress'; taskId: string; message: string}
  | {type: 'complete'; taskId: string; success: boolean; error: string | null; task: TaskRecord}

export type TaskEventSink = (event: TaskEvent) => void
