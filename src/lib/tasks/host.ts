import type {Config} from '../config/types.js'
import type {Store} from '../store/store.js'
import type {TaskPatch, TaskRecord, TaskState} from '../store/task-record.js'
import type {StateChange} from '../store/task-store.js'
import type {CheckpointCreated} from './checkpoints/checkpoints.js'
import type {TaskEventSink} from './events.js'
import type {RoleContext} from './roles/role.js'
import type {TaskRun} from './run/claude-run.js'

/**
 * The TaskManager as the run loop and the controls see it (tasks/run/loop.ts, tasks/controls.ts take it
 * directly; they are lazy-loaded modules of the manager, not separate services). It lives in its
 * own file so those modules depend on this shape, not on tasks/manager.ts (no import cycle).
 */
export interface TaskHost {
  readonly store: Store
  readonly config: Config
  /** environment tasks inherit (cleaned by TaskRun) */
  readonly env: Record<string, string | undefined>
  readonly emit: TaskEventSink
  /** a progress line for the task (recorded and emitted) */
  progress(taskId: string, message: string): void
  /** tell the sinks about a state change; returns the changed task */
  changed(change: StateChange): TaskRecord
  /** move an active task to its end state and tell the sinks */
  finish(taskId: string, state: 'completed' | 'failed' | 'interrupted', patch?: TaskPatch, from?: readonly TaskState[]): TaskRecord
  /** pids of every recorded runner (never signalled as part of another task) */
  runnerPids(): Set<number>
  /** this process as the task's runner */
  runnerPatch(): TaskPatch
  /** the claude executable (throws when there is none) */
  claudePath(): string
  prepareWorkspace(taskId: string): Promise<TaskRecord>
  /** this process's tool keys and how to run makima (tasks/roles/role.ts) */
  readonly role: RoleContext
  /** the runs of this process by task id: the run loop adds and removes its own */
  readonly runs: Map<string, TaskRun>
  /** interruptLocal was called: runs that have not spawned claude yet end as interrupted */
  readonly stopping: boolean
  /** abandonLocal was called: runs end without recording an outcome (kept for recovery) */
  readonly abandoning: boolean
  readonly onCheckpoint?: (taskId: string, payload: CheckpointCreated) => void
  /** mark tasks whose runner died as interrupted */
  reap(): TaskRecord[]
  /** take a slot for an existing task */
  acquire(taskId: string, from: readonly TaskState[]): TaskRecord
  /** start a detached runner for a task that holds a slot */
  startDetachedRunner(taskId: string): TaskRecord
  /** the concurrency caps slots are taken under */
  caps(): {maxConcurrentTasks: number; maxTasksPerContract?: number}
  /** queued tasks this process waits for (attached --queue) */
  readonly queuedHere: Set<string>
  /** start the queued tasks that fit in the free slots (queue.ts) */
  promoteQueued(): TaskRecord[]
  /** this process runs the queued tasks it promotes itself (a detached runner; queue.ts) */
  readonly hostsQueued: boolean
  /** the runs of queued tasks this process took on (queue.ts hostQueuedTask) */
  readonly hosted: Set<Promise<unknown>>
  /** run a task that holds a slot in this process until it ends (then the work after a run) */
  run(taskId: string): Promise<TaskRecord>
}
