import type {Config} from '../config/types.js'
import {MakimaError} from '../errors.js'
import {Store} from '../store/store.js'
import {ACTIVE_STATES, type TaskRecord} from '../store/task-record.js'
import {TaskManager} from '../tasks/manager.js'
import type {AuthFlows} from './auth-flow.js'
import {loginFlows} from './login-flows.js'
import {DaemonConnection} from './connection.js'
import type {DispatchContext} from './dispatch-context.js'
import {OutboxWriter, type OutgoingMessage} from './event-sink.js'
import {handleServerFrame, sendCommandError, type FrameHost} from './frames.js'
import {claimDaemonHome, recoverOrphanedTasks} from './recovery.js'
import {ServerPaths} from './server-paths.js'
import type {DaemonOptions} from './daemon-options.js'

export type {DaemonOptions} from './daemon-options.js'

export const DAEMON_RESTART_EXIT_CODE = 42

/**
 * `makima daemon`: one TaskManager for the server's tasks, a WebSocket session to the server, and
 * the durable outbox between them. Tasks keep running while the connection is down.
 */
export class Daemon {
  readonly store: Store
  readonly manager: TaskManager
  readonly connection: DaemonConnection
  readonly writer: OutboxWriter
  readonly authFlows: AuthFlows
  readonly paths: ServerPaths
  private readonly origins = new Map<string, TaskRecord>()
  private accepting = true
  private exitResolve?: (code: number) => void
  readonly exited: Promise<number>

  constructor(private readonly options: DaemonOptions) {
    const {config} = options
    this.store = Store.open(config.localDb.path)
    this.manager = new TaskManager({
      store: this.store,
      config,
      env: options.env,
      runnerEntry: options.runnerEntry,
      onCheckpoint: (taskId, payload) => {
        if (this.taskRecord(taskId)?.origin === 'daemon') this.writer.enqueue({type: 'checkpointCreated', taskId, body: {...payload}})
      },
      // A task's tool key (ToolKeys adds it to the redactor before anything can print it) is registered
      // (the outbox keeps the task's order, so the server has it before the task's output).
      onToolKey: (taskId, toolKey) => {
        if (this.taskRecord(taskId)?.origin === 'daemon') this.writer.enqueue({type: 'registerToolKey', taskId, body: {taskId, toolKey}})
      },
      redactor: options.redactor.add(options.apiKey),
      poolRefill: (repoPath, base) => this.refillPool(repoPath, base),
    })
    this.exited = new Promise((resolve) => (this.exitResolve = resolve))
    this.paths = new ServerPaths({config, knownRepositories: () => this.store.tasks.repositoryPaths()})
    this.connection = new DaemonConnection({
      url: config.server.url,
      apiKey: options.apiKey,
      hostname: options.hostname,
      version: options.version,
      maxConcurrentTasks: config.process.maxConcurrentTasks,
      heartbeatIntervalSecs: config.server.heartbeatIntervalSecs,
      reconnectIntervalSecs: config.server.reconnectIntervalSecs,
      outbox: this.store.outbox,
      activeTaskIds: () => this.activeTaskIds(),
      getDaemonId: () => this.store.getMeta('daemon.id'),
      setDaemonId: (id) => this.store.setMeta('daemon.id', id),
      log: options.log,
    })
    this.writer = new OutboxWriter(
      this.store.outbox,
      config.outbox,
      (messages) => this.connection.offer(messages),
      options.log,
      (id) => this.taskRecord(id)?.origin === 'daemon',
      (id) => this.taskRecord(id)?.isSupervisor === true,
    )
    this.manager.onEvent(this.writer.onEvent)
    this.manager.onEvent((event) => {
      if (event.type === 'status' || event.type === 'complete') this.origins.set(event.taskId, event.task)
    })
    this.authFlows = loginFlows({
      manager: this.manager,
      writer: this.writer,
      config,
      log: options.log,
      hostname: options.hostname,
      isDaemonTask: (taskId) => this.taskRecord(taskId)?.origin === 'daemon',
      redactor: options.redactor,
      env: options.env,
      originalOauthToken: options.originalOauthToken,
    })
    this.connection.on('frame', (text: string) => void this.onFrame(text))
    this.connection.on('invalidFrame', (message: string) => sendCommandError(this.frameHost(), 'unknown', {}, 'INVALID_JSON', message))
    this.connection.on('invalidAck', (seq: number, highestSent: number) =>
      sendCommandError(this.frameHost(), 'ack', {}, 'INVALID_FIELD', `ack.seq: ${seq} is past the last message sent (seq ${highestSent}); nothing was acknowledged`),
    )
    this.connection.on('state', (state: string) => {
      if (!this.draining) this.setStateMeta(state)
    })
  }

  /**
   * worktree.warmPool: when a task's run ends the daemon tops the repository's pool up itself, in the
   * background with git at nice 19 (tasks/workspace/pool.ts); a failure is only logged.
   */
  private refillPool(repoPath: string, base: string): void {
    void (async () => {
      const [{refillPool}, {poolWithinBudget}] = await Promise.all([import('../tasks/workspace/pool.js'), import('../tasks/workspace/disk-policy.js')])
      await refillPool(this.options.config, repoPath, base, {lowPriority: true, withinBudget: () => poolWithinBudget(this.manager)})
    })().catch((error: Error) => this.options.log('warn', `refilling the warm pool of ${repoPath} failed: ${error.message}`))
  }

  /** what `makima daemon status` shows as the connection */
  private setStateMeta(state: string): void {
    this.store.setMeta('daemon.state', JSON.stringify({state, pid: process.pid, at: new Date().toISOString()}))
  }

  private taskRecord(id: string): TaskRecord | undefined {
    let task = this.origins.get(id)
    if (!task) {
      task = this.store.tasks.get(id)
      if (task) this.origins.set(id, task)
    }
    return task
  }

  activeTaskIds(): string[] {
    return this.store.tasks
      .list({states: ACTIVE_STATES})
      .filter((t) => t.origin === 'daemon')
      .map((t) => t.id)
  }

  /**
   * Claim this MAKIMA_HOME (one daemon per database: two would share one outbox and one daemon
   * id), report orphaned daemon tasks, then connect.
   */
  async start(): Promise<void> {
    this.starting = this.startUp()
    return this.starting
  }

  /** start() in progress: a shutdown waits for it (recovery uses the store it closes) */
  private starting?: Promise<void>

  private async startUp(): Promise<void> {
    claimDaemonHome(this.store, this.options.config.localDb.path)
    await this.recover()
    if (this.accepting) this.connection.start() // not when a signal came during recovery
  }

  /** Start-up recovery (recovery.ts): orphaned daemon tasks reported to the server, marked interrupted. */
  async recover(): Promise<number> {
    const reports = await recoverOrphanedTasks(this.store, () => this.manager.runnerPids())
    if (reports.length === 0) return 0
    for (const report of reports) this.writer.enqueue(report)
    this.writer.flush()
    this.options.log('info', `recovery: reported ${reports.length} interrupted task(s) to the server`)
    return reports.length
  }

  /** One server frame (frames.ts). */
  private onFrame(text: string): Promise<void> {
    return handleServerFrame(text, this.frameHost())
  }

  private frameHost(): FrameHost {
    return {
      writer: this.writer,
      log: this.options.log,
      refusal: (type) => {
        if (this.draining && (type === 'spawnTask' || !this.accepting)) return 'the daemon is shutting down (draining its tasks): send the task to another daemon'
        return this.accepting ? undefined : 'the daemon is shutting down'
      },
      dispatchContext: () => this.dispatchContext(),
      // a spawnTask or sendMessage may start a task: a drain waits for it (drain.ts)
      dispatched: (type, done) => {
        if (type !== 'spawnTask' && type !== 'sendMessage') return
        this.taskStarters.add(done)
        void done.catch(() => undefined).finally(() => this.taskStarters.delete(done))
      },
    }
  }

  /** commands being handled now that may start a task (a spawnTask cloning its repository, a sendMessage) */
  private readonly taskStarters = new Set<Promise<unknown>>()
  /** tasks such a command would have started during a drain: drain.ts hands them over instead */
  private readonly heldBack: string[] = []

  private dispatchContext(): DispatchContext {
    return {
      authFlows: this.authFlows,
      manager: this.manager,
      store: this.store,
      config: this.options.config,
      log: this.options.log,
      paths: this.paths,
      send: (message: OutgoingMessage) => this.writer.sendNow(message),
      runInBackground: (taskId: string) => this.runInBackground(taskId),
      requireTask: (taskId: string) => {
        const task = this.store.tasks.get(taskId)
        if (!task || task.origin !== 'daemon') throw new MakimaError('NOT_FOUND', `unknown task ${taskId}`)
        return task
      },
      restart: () => void this.shutdown(DAEMON_RESTART_EXIT_CODE),
    }
  }

  private readonly running = new Set<Promise<unknown>>()

  runInBackground(taskId: string): void {
    if (this.draining) {
      this.heldBack.push(taskId)
      return
    }
    const run = this.manager
      .run(taskId)
      .catch((error) => this.options.log('error', `task ${taskId} ended with an error: ${(error as Error).message}`))
      .finally(() => this.running.delete(run))
    this.running.add(run)
  }

  /** set by drain(): no new tasks (readable by /readyz and /metrics) */
  draining = false
  /** seconds the last drain took */
  lastDrainSeconds: number | null = null
  /** when the database last accepted a write of this daemon (the health probe's) */
  lastDbWriteAt = Date.now()
  private hurry?: () => void

  get config(): Config {
    return this.options.config
  }

  /**
   * SIGTERM/SIGINT: stop admitting tasks, hand every task back to the server (drain.ts), wait for
   * the acks within daemon.drainGraceSecs, then stop. A second signal during the drain ends the
   * remaining tasks' processes at once (kept for recovery) and stops.
   */
  async drain(): Promise<number> {
    if (this.draining) {
      this.options.log('warn', 'second signal: stopping now')
      this.hurry?.()
      return this.exited
    }
    if (!this.accepting) return this.exited
    this.draining = true
    this.setStateMeta('draining')
    await this.starting?.catch(() => undefined)
    this.authFlows.stop()
    this.options.log('info', `draining: no new tasks; handing back ${this.manager.localTaskIds().length} task(s) within ${this.options.config.daemon.drainGraceSecs}s`)
    const hurry = new Promise<void>((resolve) => (this.hurry = resolve))
    const {drainTasks} = await import('./drain.js')
    const summary = await drainTasks({
      config: this.options.config,
      store: this.store,
      manager: this.manager,
      writer: this.writer,
      log: this.options.log,
      taskIds: () => this.manager.localTaskIds().filter((id) => this.taskRecord(id)?.origin === 'daemon'),
      inFlight: () => [...this.taskStarters],
      heldBack: () => this.heldBack.splice(0),
      hurry,
    })
    this.lastDrainSeconds = summary.seconds
    return this.shutdown(0, {waitForAcks: false})
  }

  /**
   * Stop: refuse new commands, end every process of every running task (SIGTERM, SIGKILL after
   * the grace period) keeping the tasks for recovery, flush what the outbox can send, close.
   */
  async shutdown(exitCode = 0, options: {waitForAcks?: boolean} = {}): Promise<number> {
    if (!this.accepting) return this.exited
    this.accepting = false
    await this.starting?.catch(() => undefined)
    this.authFlows.stop()
    this.options.log('info', exitCode === DAEMON_RESTART_EXIT_CODE ? 'restarting: stopping tasks' : 'shutting down: stopping tasks')
    await this.manager.abandonLocal()
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.all(this.running), new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))])
    clearTimeout(timer) // a pending timer would keep the process alive after shutdown
    this.writer.flush()
    const deadline = Date.now() + (options.waitForAcks === false ? 0 : 3000)
    while (this.connection.state === 'connected' && this.store.outbox.depth.messages > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    await this.connection.stop()
    this.store.close()
    this.exitResolve?.(exitCode)
    return exitCode
  }
}
