import {existsSync} from 'node:fs'

import {resolveClaudeCommand} from '../claude/invocation.js'
import {cleanEnvironment} from '../claude/task-env.js'
import type {Config} from '../config/types.js'
import {SecretRedactor} from '../secrets/redactor.js'
import {knownSecrets} from '../secrets/server-key.js'
import {MakimaError} from '../errors.js'
import type {Store} from '../store/store.js'
import {ACTIVE_STATES, WAITING_STATES, isActive, type TaskPatch, type TaskRecord, type TaskState} from '../store/task-record.js'
import type {StateChange} from '../store/task-store.js'
import {spawnDetachedRunner} from './run/detached-runner.js'
import type {TaskEvent, TaskEventSink} from './events.js'
import {purgeExpiredTasks} from './history.js'
import {processStartToken} from '../os/process-table.js'
import {reapStaleTasks} from './run/stale-runners.js'
import type {TaskHost} from './host.js'
import type {RoleContext} from './roles/role.js'
import type {TaskRun} from './run/claude-run.js'
import {resolveTaskSpec, type TaskSpec} from './spec.js'
import {ToolKeys} from './roles/tool-keys.js'
import {promoteQueued, queueOrTake} from './queue.js'
import {currentHold, refuseWhileHeld} from './rate-hold.js'
import type {RateLimitHold} from '../store/rate-limit-store.js'
import {setUpWorkspaceOrFail} from './workspace/setup.js'
import type {TaskLimits} from './limits/limits.js'
import type {TaskManagerOptions} from './manager-options.js'

export type {TaskManagerOptions} from './manager-options.js'

/**
 * The lifecycle of tasks: create, take a slot, set up the worktree, run Claude Code (here or in a
 * detached runner), and control tasks owned by any process through the store. Every state change
 * is persisted, then emitted to the sinks. The run loop and the controls (tasks/run/loop.ts,
 * tasks/controls.ts) are imported when first used: `task spawn --detach` needs neither.
 */
export class TaskManager implements TaskHost {
  private readonly sinks = new Set<TaskEventSink>()
  /** the runs of this process by task id (the run loop adds and removes its own) */
  readonly runs = new Map<string, TaskRun>()
  /** set by interruptLocal: runs that have not spawned claude yet end as interrupted */
  stopping = false
  /** set by abandonLocal: runs end without recording an outcome (kept for recovery) */
  abandoning = false
  /** queued tasks this process waits for (attached --queue): promoted here, run here */
  readonly queuedHere = new Set<string>()
  /** runs of queued tasks this runner took on itself (options.hostQueued; tasks/queue.ts) */
  readonly hosted = new Set<Promise<unknown>>()
  /** tool keys of the tasks this process runs: in memory only (tasks/roles/tool-keys.ts) */
  private readonly toolKeys: ToolKeys

  constructor(private readonly options: TaskManagerOptions) {
    const redactor = options.redactor ?? new SecretRedactor()
    redactor.add(...knownSecrets(options.config, options.env))
    this.toolKeys = new ToolKeys(options.onToolKey, redactor)
  }

  get store(): Store {
    return this.options.store
  }

  get config(): Config {
    return this.options.config
  }

  get env(): Record<string, string | undefined> {
    return this.options.env
  }

  get hostsQueued(): boolean {
    return Boolean(this.options.hostQueued) && !this.stopping
  }

  get onCheckpoint(): TaskManagerOptions['onCheckpoint'] {
    return this.options.onCheckpoint
  }

  onEvent(sink: TaskEventSink): () => void {
    this.sinks.add(sink)
    return () => this.sinks.delete(sink)
  }

  readonly emit = (event: TaskEvent): void => {
    for (const sink of this.sinks) sink(event)
  }

  progress(taskId: string, message: string): void {
    this.store.output.push(taskId, 'makima', message)
    this.store.output.flush()
    this.emit({type: 'progress', taskId, message})
  }

  changed(change: StateChange): TaskRecord {
    if (change.oldState !== change.newState) {
      this.emit({type: 'status', taskId: change.task.id, oldState: change.oldState, newState: change.newState, task: change.task})
    }
    return change.task
  }

  /** A progress line for a task (recorded and emitted): for callers outside the lifecycle, e.g. daemon commands. */
  note(taskId: string, message: string): void {
    this.progress(taskId, message)
  }

  /** The environment helper processes (gh, git hooks) run with: the parent's, minus makima's secrets. */
  taskEnvironmentBase(): Record<string, string> {
    return cleanEnvironment(this.options.env)
  }

  /** What a run needs for the task's role: this process's tool keys and how to run makima (tasks/roles/role.ts). */
  get role(): RoleContext {
    return {toolKeys: this.toolKeys, makimaEntry: this.options.runnerEntry}
  }

  /** The claude executable, checked before anything is recorded. */
  claudePath(): string {
    return resolveClaudeCommand(this.config.process.claudeCommand, this.options.env.PATH)
  }

  /** Validate and record a pending task (holds no slot). */
  async create(spec: TaskSpec): Promise<TaskRecord> {
    await purgeExpiredTasks(this.store, this.config)
    const task = await resolveTaskSpec(spec, this.config, this.store.tasks)
    this.store.tasks.insert(task)
    return task
  }

  /** Validate, take a slot and record the task in one step (nothing is recorded when the cap is full). */
  async admit(spec: TaskSpec): Promise<TaskRecord> {
    this.claudePath()
    refuseWhileHeld(this.store) // rate limited (the daemon's spawnTask): CONCURRENCY_LIMIT with retryAfter
    await purgeExpiredTasks(this.store, this.config)
    const task = await resolveTaskSpec(spec, this.config, this.store.tasks)
    return this.changed(this.store.tasks.acquireSlot(task, this.caps(), ['pending'], this.runnerPatch()))
  }

  /**
   * admit, or when the cap is full (or tasks are already queued) record the task as `queued`
   * (task spawn --queue; tasks/queue.ts). `waitHere`: this process waits for it (attached).
   */
  async admitOrQueue(spec: TaskSpec, waitHere: boolean): Promise<TaskRecord> {
    this.claudePath()
    await purgeExpiredTasks(this.store, this.config)
    return queueOrTake(this, await resolveTaskSpec(spec, this.config, this.store.tasks), ['pending'], waitHere)
  }

  /** acquire with the queue of admitOrQueue (task start --queue). */
  acquireOrQueue(taskId: string, from: readonly TaskState[], waitHere: boolean): TaskRecord {
    this.claudePath()
    return queueOrTake(this, taskId, from, waitHere)
  }

  /** The machine's rate-limit hold while it lasts (tasks/rate-hold.ts), else null. */
  rateLimitHold = (): RateLimitHold | null => currentHold(this.store)

  /** Start the queued tasks that fit in the free slots, oldest first (tasks/queue.ts). */
  promoteQueued(): TaskRecord[] {
    return promoteQueued(this)
  }

  /** Take a slot for an existing task (pending, or ended for a resumed session). */
  acquire(taskId: string, from: readonly TaskState[] = ['pending'], patch: TaskPatch = {}): TaskRecord {
    this.claudePath()
    return this.changed(this.store.tasks.acquireSlot(taskId, this.caps(), from, {...this.runnerPatch(), ...patch}))
  }

  /** the concurrency caps slots are taken under */
  caps() {
    return {maxConcurrentTasks: this.config.process.maxConcurrentTasks, maxTasksPerContract: this.config.process.maxTasksPerContract}
  }

  runnerPatch(pid = process.pid): TaskPatch {
    return {runnerPid: pid, runnerStart: processStartToken(pid)}
  }

  /** Create the task's worktree (or temp dir) for a task in `initializing`. Fails the task on error. */
  async prepareWorkspace(taskId: string): Promise<TaskRecord> {
    const task = this.store.tasks.require(taskId)
    if (task.worktreePath && existsSync(task.worktreePath)) return task
    const ctx = {config: this.config, store: this.store, env: this.options.env, progress: (m: string) => this.progress(task.id, m)}
    const patch = await setUpWorkspaceOrFail(task, ctx, (failed) => this.finish(task.id, 'failed', failed))
    return this.store.tasks.update(task.id, patch)
  }

  /**
   * Start a detached runner (`task run <id>`) that outlives this process; its output goes to
   * $MAKIMA_HOME/logs/<id>.log. The task's runner pid is recorded before this returns.
   */
  startDetachedRunner(taskId: string): TaskRecord {
    const entry = this.options.runnerEntry
    if (!entry) throw new MakimaError('INTERNAL', 'no runner entry point configured')
    const pid = spawnDetachedRunner(entry, taskId, this.config.home, cleanEnvironment(this.options.env))
    return this.store.tasks.update(taskId, this.runnerPatch(pid))
  }

  /**
   * Run a task in this process until it ends: initializing -> starting -> running -> ended.
   * Messages that arrive after claude closed are delivered by resuming the session (tasks/run/loop.ts).
   */
  async run(taskId: string): Promise<TaskRecord> {
    const [{runTaskHere}, {runThroughUsageLimits}] = await Promise.all([import('./run/loop.js'), import('./limits/usage-limit.js')])
    // --resume-after-limit: run again after each usage limit's reset (limits/usage-limit.ts)
    const ended = await runThroughUsageLimits(this, taskId, () => runTaskHere(this, taskId))
    if (!this.abandoning) {
      const {afterRun} = await import('./workspace/after-run.js')
      await afterRun(this, ended, this.options)
    }
    return ended
  }

  /**
   * Move an active (or waiting) task to its end state and tell the sinks; then start the queued
   * tasks the freed slot lets in. `from`: the states it may be in (default: active or waiting).
   */
  finish(taskId: string, state: 'completed' | 'failed' | 'interrupted', patch: TaskPatch = {}, from: readonly TaskState[] = [...ACTIVE_STATES, ...WAITING_STATES]): TaskRecord {
    try {
      this.store.output.flush()
    } catch {
      // Lines that cannot be stored are lost; the task's end must still be recorded.
    }
    const change = this.store.tasks.transition(taskId, from, state, {
      ...patch,
      pid: null,
      queueSeq: null,
      completedAt: new Date().toISOString(),
    })
    const task = this.changed(change)
    this.emit({type: 'complete', taskId, success: state === 'completed', error: task.error, failureKind: task.failureKind, task, usage: this.store.usage.totalsIfReadable(taskId)})
    if (isActive(change.oldState)) this.promoteQueued()
    return task
  }

  /** pids of every recorded runner (never signalled as part of another task). */
  runnerPids(): Set<number> {
    const pids = new Set<number>([process.pid])
    for (const task of this.store.tasks.list({states: ACTIVE_STATES})) if (task.runnerPid) pids.add(task.runnerPid)
    return pids
  }

  /** Mark tasks whose runner died as interrupted (see tasks/run/stale-runners.ts). */
  reap(): TaskRecord[] {
    const reaped = reapStaleTasks(this.store, (task) =>
      this.emit({type: 'complete', taskId: task.id, success: false, error: task.error, failureKind: task.failureKind, task, usage: this.store.usage.totalsIfReadable(task.id)}),
    )
    this.promoteQueued()
    return reaped
  }

  // ---- controls that work from any process (tasks/controls.ts) ----

  async pause(idOrPrefix: string): Promise<TaskRecord> {
    const {pauseTask} = await import('./controls.js')
    return pauseTask(this, idOrPrefix)
  }

  async resume(idOrPrefix: string): Promise<TaskRecord> {
    const {resumeTask} = await import('./controls.js')
    return resumeTask(this, idOrPrefix)
  }

  /** End a task and every process it started, in the owning process when alive (controls.ts). */
  async interrupt(idOrPrefix: string, reason?: string): Promise<TaskRecord> {
    const {interruptTask} = await import('./controls.js')
    return interruptTask(this, idOrPrefix, reason)
  }

  /** ids of the tasks this process is running now */
  localTaskIds(): string[] {
    return [...this.runs.keys()]
  }

  /** End this process's tasks' processes without an outcome: kept for recovery (daemon restart). */
  async abandonLocal(): Promise<void> {
    this.abandoning = true
    this.stopping = true
    await Promise.all([...this.runs.values()].map((run) => run.interrupt()))
  }

  /** Interrupt every task this process runs (Ctrl-C, shutdown). */
  async interruptLocal(): Promise<void> {
    this.stopping = true
    await Promise.all([...this.runs.values()].map((run) => run.interrupt()))
  }

  /** A follow-up message: to the running claude, or resuming an ended session (controls.ts). */
  async send(idOrPrefix: string, message: string, options: {inProcess?: boolean; limits?: Partial<TaskLimits>; resumeAfterLimit?: boolean} = {}): Promise<{task: TaskRecord; resumed: boolean}> {
    const {sendMessage} = await import('./controls.js')
    return sendMessage(this, idOrPrefix, message, options)
  }

  /** Poll the store until the task has ended (reaping dead runners on the way). */
  async waitForEnd(taskId: string, timeoutMs?: number): Promise<TaskRecord> {
    const {waitForTaskEnd} = await import('./controls.js')
    return waitForTaskEnd(this, taskId, timeoutMs)
  }
}
