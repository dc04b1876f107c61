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
import type {TaskUsage} from '../store/usage-store.js'
import type {CheckpointCreated} from './checkpoints/checkpoints.js'
import {spawnDetachedRunner} from './run/detached-runner.js'
import type {TaskEvent, TaskEventSink} from './events.js'
import {purgeExpiredTasks} from './history.js'
import type {MakimaEntry} from './roles/orchestrate-script.js'
import {isSameProcessAlive, processStartToken} from '../os/process-table.js'
import {reapStaleTasks} from './run/stale-runners.js'
import type {TaskHost} from './host.js'
import type {RoleContext} from './roles/role.js'
import type {TaskRun} from './run/claude-run.js'
import {resolveTaskSpec, type TaskSpec} from './spec.js'
import {ToolKeys} from './roles/tool-keys.js'
import {setUpWorkspaceOrFail} from './workspace/setup.js'
import type {TaskLimits} from './limits/limits.js'

export interface TaskManagerOptions {
  store: Store
  config: Config
  /** environment tasks and runners inherit (cleaned); commands pass process.env */
  env: Record<string, string | undefined>
  /** each heartbeat snapshot as the protocol's checkpointCreated payload (the daemon sends it) */
  onCheckpoint?: (taskId: string, payload: CheckpointCreated) => void
  /** how to start a detached runner: `<execPath> <script> task run <id>` (also written into .makima/orchestrate.sh) */
  runnerEntry?: MakimaEntry
  /** each tool key made for a task this process runs (the daemon registers it: registerToolKey) */
  onToolKey?: (taskId: string, toolKey: string) => void
  /** the process's known secrets, taken out of every output line (the daemon shares its logger's);
   * the server API key and Claude Code's credentials of config and env are added here */
  redactor?: SecretRedactor
  /**
   * worktree.warmPool: top the repository's pool up again when a task's run ends (the daemon
   * refills in its own process); without it a detached `task pool-fill` does (tasks/workspace/pool.ts)
   */
  poolRefill?: (repoPath: string, base: string) => void
}

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
  private readonly queuedHere = new Set<string>()
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
    await purgeExpiredTasks(this.store, this.config)
    const task = await resolveTaskSpec(spec, this.config, this.store.tasks)
    return this.changed(this.store.tasks.acquireSlot(task, this.caps(), ['pending'], this.runnerPatch()))
  }

  /**
   * admit, or when the cap is full (or tasks are already queued) record the task as `queued`
   * (task spawn --queue). `waitHere`: this process waits for it (attached) and is its owner;
   * otherwise it has none and whichever process promotes it starts a detached runner.
   */
  async admitOrQueue(spec: TaskSpec, waitHere: boolean): Promise<TaskRecord> {
    this.claudePath()
    await purgeExpiredTasks(this.store, this.config)
    const task = await resolveTaskSpec(spec, this.config, this.store.tasks)
    return this.queueOrTake(task, ['pending'], waitHere)
  }

  /** acquire with the queue of admitOrQueue (task start --queue). */
  acquireOrQueue(taskId: string, from: readonly TaskState[], waitHere: boolean): TaskRecord {
    this.claudePath()
    return this.queueOrTake(taskId, from, waitHere)
  }

  private queueOrTake(task: TaskRecord | string, from: readonly TaskState[], waitHere: boolean): TaskRecord {
    const owner: TaskPatch = waitHere ? this.runnerPatch() : {runnerPid: null, runnerStart: null}
    const admitted = this.changed(this.store.tasks.admitOrQueue(task, this.caps(), from, this.runnerPatch(), owner))
    if (admitted.state !== 'queued') return admitted
    if (waitHere) this.queuedHere.add(admitted.id)
    this.promoteQueued() // slots may be free with a queue nobody has promoted yet
    // Detached, a task promoted just now already has its runner: the caller only prints the id.
    return waitHere ? this.store.tasks.require(admitted.id) : admitted
  }

  /**
   * Start the queued tasks that fit in the free slots, oldest first (task-store.ts promoteQueued).
   * A promoted task this process is waiting for is left to that wait (its state is now
   * `initializing`); for every other one this process starts a detached runner, so a queued task
   * runs even when the process that queued it is gone. Called whenever a slot may have freed:
   * finish, reap, and the queue waits' polls. Errors are noted, never thrown.
   */
  promoteQueued(): TaskRecord[] {
    let changes: StateChange[]
    try {
      changes = this.store.tasks.promoteQueued(this.caps(), this.runnerPatch() as {runnerPid: number; runnerStart: string | null}, (t) =>
        Boolean(t.runnerPid && isSameProcessAlive(t.runnerPid, t.runnerStart)),
      )
    } catch {
      return [] // busy or closed: the next slot to free tries again
    }
    const promoted: TaskRecord[] = []
    for (const change of changes) {
      const task = this.changed(change)
      promoted.push(task)
      if (this.queuedHere.delete(task.id)) continue
      try {
        this.progress(task.id, 'a slot is free: starting (queued task)')
        this.startDetachedRunner(task.id)
      } catch (error) {
        this.finish(task.id, 'failed', {error: `could not start a runner for the queued task: ${(error as Error).message}`})
      }
    }
    return promoted
  }

  /** Take a slot for an existing task (pending, or ended for a resumed session). */
  acquire(taskId: string, from: readonly TaskState[] = ['pending'], patch: TaskPatch = {}): TaskRecord {
    this.claudePath()
    return this.changed(this.store.tasks.acquireSlot(taskId, this.caps(), from, {...this.runnerPatch(), ...patch}))
  }

  private caps() {
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
   * worktree.warmPool: refill the pool of the task's repository in the background when it is
   * short (a spawn may have taken one), at the task's base branch. Called when a run ends, not
   * when the worktree is taken: a refill is a whole checkout, which beside the task just started
   * took its share of the 2 CPUs of the bench machine (and, on its disk, the kernel's inode
   * allocation): a pooled task of 1.4-1.8 s took 3-3.8 s when its refill ran beside it.
   */
  private async refillPool(task: TaskRecord): Promise<void> {
    if (!task.repoPath || !(this.config.worktree.warmPool > 0)) return
    const [{poolLocation, startDetachedRefill}, {poolSize}] = await Promise.all([import('./workspace/pool.js'), import('../git/worktree-pool.js')])
    if (poolSize(poolLocation(this.config).root, task.repoPath) >= this.config.worktree.warmPool) return
    const base = task.baseBranch ?? 'HEAD'
    if (this.options.poolRefill) return this.options.poolRefill(task.repoPath, base)
    if (this.options.runnerEntry) startDetachedRefill(this.options.runnerEntry, this.config.home, task.repoPath, base, cleanEnvironment(this.options.env))
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
    const {runTaskHere} = await import('./run/loop.js')
    const ended = await runTaskHere(this, taskId)
    if (this.config.history.maxWorktreeBytes > 0 && !this.abandoning) {
      const {enforceWorktreeBudget} = await import('./workspace/disk-policy.js')
      for (const pruned of await enforceWorktreeBudget(this, taskId).catch(() => [])) this.note(taskId, pruned.message)
    }
    if (!this.abandoning) await this.refillPool(ended).catch(() => undefined)
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
    this.emit({type: 'complete', taskId, success: state === 'completed', error: task.error, failureKind: task.failureKind, task, usage: this.usageOf(taskId)})
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
      this.emit({type: 'complete', taskId: task.id, success: false, error: task.error, failureKind: task.failureKind, task, usage: this.usageOf(task.id)}),
    )
    this.promoteQueued()
    return reaped
  }

  /** The task's usage for its completion (taskComplete's `usage`); undefined when it cannot be read. */
  private usageOf(taskId: string): TaskUsage | undefined {
    try {
      return this.store.usage.totals(taskId)
    } catch {
      return undefined
    }
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

  /**
   * End a task and every process it started. The owning process does the work when alive (so it
   * records the outcome); otherwise this process does. Returns once the task has ended.
   */
  async interrupt(idOrPrefix: string, reason?: string): Promise<TaskRecord> {
    const {interruptTask} = await import('./controls.js')
    return interruptTask(this, idOrPrefix, reason)
  }

  /** ids of the tasks this process is running now */
  localTaskIds(): string[] {
    return [...this.runs.keys()]
  }

  /**
   * End every process of the tasks this process runs without recording an outcome: the tasks stay
   * active in the store, flagged for recovery (daemon shutdown; the next start reports them).
   */
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

  /**
   * A follow-up message. Active task: delivered to claude's stdin by its owner (a paused task is
   * resumed first). Ended task with a session and a worktree: a slot is taken and the session is
   * resumed with the message in a detached runner (or here when `inProcess`).
   */
  async send(idOrPrefix: string, message: string, options: {inProcess?: boolean; limits?: Partial<TaskLimits>} = {}): Promise<{task: TaskRecord; resumed: boolean}> {
    const {sendMessage} = await import('./controls.js')
    return sendMessage(this, idOrPrefix, message, options)
  }

  /** Poll the store until the task has ended (reaping dead runners on the way). */
  async waitForEnd(taskId: string, timeoutMs?: number): Promise<TaskRecord> {
    const {waitForTaskEnd} = await import('./controls.js')
    return waitForTaskEnd(this, taskId, timeoutMs)
  }
}
