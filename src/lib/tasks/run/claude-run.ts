import {ClaudeProcess, type ClaudeExit} from '../../claude/claude-process.js'
import {claudeArgv} from '../../claude/invocation.js'
import {isRoutineLine} from '../../claude/routine-line.js'
import {authFailureOf} from '../../claude/auth-failure.js'
import type {ResultEvent} from '../../claude/stream-event.js'
import type {Config} from '../../config/types.js'
import type {Store} from '../../store/store.js'
import type {TaskRecord} from '../../store/task-record.js'
import {OutputEvent, type TaskEventSink} from '../events.js'
import {terminateTaskProcesses} from '../../os/task-processes.js'
import {setUpRole, type RoleContext} from '../roles/role.js'
import {RunMeter} from './meter.js'
import {RateWatch, type UsageLimitOutcome} from './rate-watch.js'

export const POLL_MS = 200
/** How long a run stopped at a limit waits for Claude Code's `result` line (its cost) before ending every process. */
const RESULT_WAIT_MS = 2000
const FLUSH_LINES = 2000

export interface RunOutcome {
  exit: ClaudeExit
  lastResult: ResultEvent | null
  interrupted: boolean
  /** why, when the interrupt said (e.g. a daemon drain); the task's error */
  interruptReason: string | null
  authFailure: string | null
  /** why the run's output could not be stored (the run was stopped then), if it could not */
  storeFailure: string | null
  /** the limit that stopped the run ("limit reached: 30m wall time"; run-meter.ts), if one did */
  limit: string | null
  /** a usage limit of Claude Code ended the run (rate-watch.ts) */
  usageLimit: UsageLimitOutcome | null
}

export interface TaskRunOptions {
  store: Store
  config: Config
  claudePath: string
  parentEnv: Record<string, string | undefined>
  emit: TaskEventSink
  /** pids never to signal (runners of other tasks) */
  excludePids: () => Set<number>
  /** tool keys and the makima entry point for orchestrator/supervisor/contract tasks (tasks/roles/role.ts) */
  role?: RoleContext
  /** start with `--continue` (the autonomous loop's next run) */
  continueSession?: boolean
  /** appended after the role's system prompt (the autonomous loop's completion gate) */
  extraSystemPrompt?: string
  /** how claude is actually spawned (process.bubblewrap.enabled: under bwrap; sandbox.ts) */
  wrapCommand?: (command: string, args: string[]) => {command: string; args: string[]}
}

/**
 * One run of Claude Code for a task: spawn it, feed it the first message (the plan, or the
 * follow-up that resumes a session), record and emit every line, deliver messages from the inbox,
 * close stdin when a turn ends with nothing waiting, and report how the process ended.
 *
 * Messages are written one at a time, only between turns: Claude Code 2.1.197 drops a stdin
 * message that arrives while a Bash tool runs (and at times never reports that tool's end), as
 * checked against the real CLI; so a message sent mid-turn waits in the inbox for the `result`.
 */
export class TaskRun {
  private proc?: ClaudeProcess
  private outstandingTurns = 0
  /** messages taken but not yet written (delivered one per turn) */
  private readonly queued: string[] = []
  private lastResult: ResultEvent | null = null
  private interruptRequested = false
  private interruptReason: string | null = null
  private authFailure: string | null = null
  private storeFailure: string | null = null
  private limit: string | null = null
  /** resolves the wait for the `result` of a turn stopped at a limit */
  private resultWaiter?: () => void
  private meter?: RunMeter
  private rateWatch?: RateWatch
  private sessionId: string | null
  private timer?: NodeJS.Timeout
  private terminating?: Promise<void>

  constructor(
    private readonly options: TaskRunOptions,
    private task: TaskRecord,
    private readonly firstMessages: string[],
    private readonly resumeSession: boolean,
  ) {
    this.sessionId = task.sessionId
  }

  get pid(): number | undefined {
    return this.proc?.pid
  }

  /** Start claude; resolves once it is spawned (or failed to spawn), with the run's outcome promise. */
  start(): Promise<RunOutcome> {
    const {config} = this.options
    const role = setUpRole(this.task, config, this.options.parentEnv, this.options.role ?? {})
    if (role.warning) {
      const message = `Warning: ${role.warning}`
      this.options.store.output.push(this.task.id, 'makima', message)
      this.options.emit({type: 'progress', taskId: this.task.id, message})
    }
    // Usage and limits of this run (run-meter.ts); a store that refuses the run's row fails it as output would.
    const kind = this.options.continueSession ? 'continue' : this.resumeSession ? 'resume' : 'start'
    this.rateWatch = new RateWatch(this.options.store, this.task.id)
    this.storeOutput(() => (this.meter = new RunMeter({store: this.options.store, task: this.task, kind, onLimit: (m) => this.stopAtLimit(m)})))
    const args = claudeArgv(config.process, {
      resumeSessionId: this.resumeSession ? this.task.sessionId : null,
      continueSession: this.options.continueSession,
      appendSystemPrompt: [role.appendSystemPrompt, this.options.extraSystemPrompt].filter(Boolean).join('\n'),
      maxBudgetUsd: this.meter?.budgetUsd(),
    })
    const spawned = this.options.wrapCommand?.(this.options.claudePath, args) ?? {command: this.options.claudePath, args}
    this.proc = new ClaudeProcess({...spawned, cwd: this.task.worktreePath!, env: role.env})
    // Known secrets (tool keys, the server API key, Claude Code's credentials; secrets/redactor.ts) never reach the stored output, the transcript or taskOutput.
    this.proc.on('stdout', (line: string) => this.onStdout(this.redact(line)))
    this.proc.on('stderr', (line: string) => this.options.store.output.push(this.task.id, 'stderr', this.redact(line)))
    this.queued.push(...this.firstMessages)
    this.deliverNext()
    this.timer = setInterval(() => this.tick(), POLL_MS)
    return this.proc.done.then(async (exit) => {
      clearInterval(this.timer)
      await this.terminating
      this.storeOutput(() => this.meter?.end())
      this.storeOutput(() => this.options.store.output.flush())
      exit = {...exit, stderrTail: this.redact(exit.stderrTail)}
      return {
        exit,
        lastResult: this.lastResult,
        interrupted: this.interruptRequested,
        interruptReason: this.interruptReason,
        authFailure: this.authFailure,
        storeFailure: this.storeFailure,
        limit: this.limit,
        usageLimit: this.rateWatch?.usageLimit ?? null,
      }
    })
  }

  private redact(text: string): string {
    return this.options.role?.toolKeys ? this.options.role.toolKeys.redact(text) : text
  }

  /**
   * End the run and every process it started (SIGTERM, SIGKILL after the grace period). A turn in
   * progress is first asked to stop (askForResult), so the run's cost is not lost with it.
   */
  interrupt(reason?: string): Promise<void> {
    this.interruptRequested = true
    this.interruptReason ??= reason ?? null
    this.terminating ??= this.askForResult().then(() => this.terminate())
    return this.terminating
  }

  /** A limit was reached: end the run and every process it started, as an interrupt does. */
  private stopAtLimit(message: string): void {
    if (this.limit !== null) return
    this.limit = message
    this.terminating ??= this.askForResult().then(() => this.terminate())
  }

  /**
   * Before its processes are ended, a turn in progress is asked to stop (claude-process.ts
   * requestInterrupt), so that Claude Code reports what the run cost in its `result` line: a
   * SIGTERMed 2.1.197 prints none, and that run's cost would be lost. It gets RESULT_WAIT_MS.
   */
  private askForResult(): Promise<void> {
    const asked = this.outstandingTurns > 0 && this.proc?.requestInterrupt()
    if (!asked) return Promise.resolve()
    return new Promise<void>((resolve) => {
      this.resultWaiter = resolve
      setTimeout(resolve, RESULT_WAIT_MS).unref()
    })
  }

  private stopProcesses(): Promise<void> {
    this.terminating ??= this.terminate()
    return this.terminating
  }

  private terminate(): Promise<void> {
    return terminateTaskProcesses(this.task.id, this.proc?.pid ?? null, this.options.config.process.interruptGraceSecs * 1000, this.options.excludePids())
  }

  /** Write the next queued message; false when there is none (or stdin is closed). */
  private deliverNext(): boolean {
    const message = this.queued.shift()
    if (message === undefined || !this.proc?.send(message)) return false
    this.outstandingTurns++
    return true
  }

  private onStdout(line: string): void {
    const {store, emit} = this.options
    store.output.push(this.task.id, 'stdout', line)
    const output = new OutputEvent(this.task.id, 'stdout', line)
    emit(output)
    if (store.output.pendingCount >= FLUSH_LINES) {
      // A burst (thousands of lines between two ticks): storing moves to a thread of its own
      // (output-writer.ts) for the rest of the process. A quiet run never pays for the thread.
      store.output.startBackgroundWriter()
      this.storeOutput(() => store.output.handOff())
    }
    const meter = this.meter
    if (meter) this.storeOutput(() => meter.observe(output))
    if (isRoutineLine(line, this.sessionId)) return
    const {event} = output
    if ('sessionId' in event && event.sessionId && event.sessionId !== this.sessionId) {
      this.sessionId = event.sessionId
      this.task = store.tasks.update(this.task.id, {sessionId: event.sessionId})
    }
    if (event.kind === 'rate_limit' || event.kind === 'api_retry' || event.kind === 'result') this.rateWatch?.observe(event)
    const auth = this.authFailure ? null : authFailureOf(event)
    if (auth) {
      // Claude Code retries a 401 for minutes: stop at the first sign.
      this.authFailure = auth
      void this.stopProcesses()
      return
    }
    if (event.kind === 'result') {
      this.lastResult = event
      this.outstandingTurns = Math.max(0, this.outstandingTurns - 1)
      if (this.limit !== null || this.interruptRequested) return this.resultWaiter?.() // stopping: nothing more is delivered
      if (this.outstandingTurns === 0) this.endTurn()
    }
  }

  /**
   * A turn ended: deliver the next waiting message, or close stdin so claude exits. Once stdin is
   * closed nothing more can be written: messages stay in the inbox for the resume after the exit.
   */
  private endTurn(): void {
    if (!this.proc?.acceptsInput) return
    for (const item of this.options.store.inbox.take(this.task.id, 'message')) this.queued.push(item.payload ?? '')
    // The stored usage reached a limit: the next message would start a turn past it.
    const limit = this.queued.length > 0 ? this.meter?.reached() : null
    if (limit) return this.stopAtLimit(limit)
    if (!this.deliverNext()) this.proc?.closeInput()
  }

  private tick(): void {
    this.storeOutput(() => this.options.store.output.handOff())
    const meter = this.meter
    if (meter) this.storeOutput(() => meter.tick())
    const {inbox} = this.options.store
    if (!this.interruptRequested && inbox.take(this.task.id, 'interrupt').length > 0) {
      void this.interrupt()
    }
  }

  /**
   * Writes to the store. A busy database (another process holds its write lock) only slows them
   * down: the lines wait in memory (busy.ts). What throws is SQLite refusing the lines (a full
   * disk) or a lock held past busy.ts's budget: a run whose output cannot be stored is stopped,
   * not left running blind; the run loop fails the task.
   */
  private storeOutput(write: () => void): void {
    try {
      write()
    } catch (error) {
      if (this.storeFailure !== null) return
      this.storeFailure = error instanceof Error ? error.message : String(error)
      void this.stopProcesses()
    }
  }
}
