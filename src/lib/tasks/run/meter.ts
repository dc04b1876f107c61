import {addTokens, NO_TOKENS, RunCost, type TokenUsage} from '../../claude/usage.js'
import type {ContentBlock, InitEvent, ResultEvent} from '../../claude/stream-event.js'
import {isBusy} from '../../store/busy.js'
import type {Store} from '../../store/store.js'
import type {TaskRecord} from '../../store/task-record.js'
import type {RunKind, TaskUsage} from '../../store/usage-store.js'
import type {OutputEvent} from '../events.js'
import {costMessage, limitReached, remainingBudget, timeoutMessage, turnsMessage, type LimitUsage, type TaskLimits} from '../limits/limits.js'

/** How an assistant line of the main conversation starts (Claude Code 2.1.197 to 2.1.332 at least). */
const ASSISTANT_PREFIX = '{"type":"assistant","message":{"id":"'
const INIT_PREFIX = '{"type":"system","subtype":"init",'
/**
 * While a run goes on its numbers are written to the store (and the task's limits read again) at
 * most this often, on the run's tick; at its end at once. A burst of output costs no writes.
 */
const WRITE_MS = 1000

export interface RunMeterOptions {
  store: Store
  task: TaskRecord
  kind: RunKind
  /** a limit was reached during the run: stop it (the message is the task's error) */
  onLimit: (message: string) => void
  now?: () => number
}

/**
 * The usage of one run of Claude Code, counted from its stream as it goes and written to the
 * runs table (usage-store.ts), and the task's limits checked against it together with the task's
 * earlier runs (limits.ts):
 *
 * - turns: each assistant message of the main conversation (a new `message.id`; a subagent's
 *   and Claude Code's own synthetic error messages do not count), so a limit does not wait for the
 *   `result` line, whose `num_turns` can overshoot. The limit trips at the N-th turn when that turn
 *   asks for a tool (Claude Code would go on to turn N+1), or when a turn past N starts.
 * - tokens, models: from each `result` line (per turn in every version).
 * - cost: each result's total minus the total before it (claude/usage.ts RunCost).
 * - wall time: the earlier runs' plus this one's since it started, checked on every tick.
 *
 * A hot path: lines of the main conversation's assistant messages are looked at by prefix and
 * substring only; user lines and a repeated init are skipped; the rest are parsed (once, shared
 * with the run). Nothing is written to the store per line: see WRITE_MS.
 */
export class RunMeter {
  readonly number: number
  private readonly startedMs: number
  private readonly before: TaskUsage
  private limits: TaskLimits | null
  private readonly cost = new RunCost()
  private tokens: TokenUsage = NO_TOKENS
  private turns = 0
  private results = 0
  /** numbers changed since the last write */
  private dirty = false
  private lastWrite = 0
  private inited = false
  private readonly models: string[] = []
  /** id of the assistant message seen last: the lines of one message come one after another */
  /** what the init line told (Claude Code's version, the login), written with the next numbers */
  private runInfo: {cliVersion?: string; apiKeySource?: string} = {}
  private lastMessageId: string | null = null
  private initModel: string | null = null
  private sessionId: string | null
  private limitMessage: string | null = null
  private ended = false
  private readonly now: () => number

  constructor(private readonly options: RunMeterOptions) {
    this.now = options.now ?? Date.now
    this.startedMs = this.now()
    this.sessionId = options.task.sessionId
    this.limits = options.task.limits
    this.number = options.store.usage.startRun(options.task.id, options.kind, this.startedMs, this.sessionId)
    this.before = options.store.usage.totals(options.task.id, {exceptRun: this.number, now: this.startedMs})
  }

  /** Claude Code's --max-budget-usd for this run: what is left of the task's cost limit (null: none). */
  budgetUsd(): number | null {
    return remainingBudget(this.limits, this.before.costUsd)
  }

  /** The task's usage so far in the units of its limits, this run included. */
  used(): LimitUsage {
    return {
      durationMs: this.before.durationMs + (this.now() - this.startedMs),
      turns: this.before.turns + this.turns,
      costUsd: this.before.costUsd + this.cost.costUsd,
    }
  }

  /** The limit the task has reached now (its error message), or null: asked before a queued message is delivered. */
  reached(): string | null {
    return limitReached(this.limits, this.used())
  }

  observe(output: OutputEvent): void {
    const {line} = output
    if (line.startsWith(ASSISTANT_PREFIX)) {
      // `parent_tool_use_id` follows the message (searched from the end); `model` comes before its content.
      const parent = line.lastIndexOf('"parent_tool_use_id":')
      if (parent === -1 || !line.startsWith('null', parent + 21)) return // a subagent's turn
      const idEnd = line.indexOf('"', ASSISTANT_PREFIX.length)
      if (line.startsWith('<synthetic>', line.indexOf('"model":"', idEnd) + 9)) return
      this.onAssistant(line.slice(ASSISTANT_PREFIX.length, idEnd), () => contentOf(output))
      return
    }
    if (line.startsWith('{"type":"user"') || !line.startsWith('{') || (this.inited && line.startsWith(INIT_PREFIX))) return
    const event = output.event
    if (event.kind === 'init') this.onInit(event)
    else if (event.kind === 'result') this.onResult(event)
    else if (event.kind === 'assistant' && event.parentToolUseId === null && !event.synthetic && event.messageId) {
      this.onAssistant(event.messageId, () => event.content)
    }
  }

  /**
   * Every tick of the run: the wall-time limit; at most every WRITE_MS the numbers counted since
   * the last write go to the store, and new limits given with `task send` are read.
   */
  tick(): void {
    const timeout = this.limits?.timeoutSecs
    if (timeout != null && this.used().durationMs >= timeout * 1000) this.trip(timeoutMessage(this.limits!))
    if (this.now() - this.lastWrite < WRITE_MS) return
    this.limits = this.options.store.tasks.get(this.options.task.id)?.limits ?? this.limits
    if (!this.dirty) {
      this.lastWrite = this.now()
      return
    }
    try {
      this.write({}, false)
    } catch (error) {
      // another process holds the database: the numbers stay counted here, written on a later tick
      if (!isBusy(error)) throw error
      this.lastWrite = this.now()
    }
  }

  /** The run ended: its end time and final numbers. */
  end(): void {
    if (this.ended) return
    this.ended = true
    this.write({endedMs: this.now()})
  }

  private onAssistant(id: string, content: () => ContentBlock[]): void {
    if (id !== this.lastMessageId) {
      this.lastMessageId = id
      this.turns++
      this.dirty = true
    }
    const max = this.limits?.maxTurns
    if (max == null || this.limitMessage !== null) return
    const total = this.before.turns + this.turns
    if (total > max || (total === max && content().some((b) => b.type === 'tool_use'))) this.trip(turnsMessage(total, this.limits!))
  }

  private onInit(event: InitEvent): void {
    this.inited = true
    if (event.sessionId) this.sessionId = event.sessionId
    this.initModel = event.model
    const {store, task} = this.options
    this.cost.begin(event.version, store.usage.sessionTotal(task.id, this.sessionId, this.number))
    // written with the next numbers (write): never a wait on a busy database here
    this.runInfo = {cliVersion: event.version ?? undefined, apiKeySource: event.apiKeySource ?? undefined}
    this.dirty = true
  }

  private onResult(event: ResultEvent): void {
    this.results++
    this.tokens = addTokens(this.tokens, event.usage)
    this.cost.add(event.costUsd)
    for (const model of event.models.length > 0 ? event.models : this.initModel ? [this.initModel] : []) {
      if (!this.models.includes(model)) this.models.push(model)
    }
    this.dirty = true
    if (event.subtype === 'error_max_budget_usd' && this.limits?.maxCostUsd != null) {
      // Claude Code stopped at the budget makima gave it: the task's cost limit is reached.
      this.trip(costMessage(this.used().costUsd, this.limits))
    }
  }

  private trip(message: string): void {
    if (this.limitMessage !== null) return
    this.limitMessage = message
    this.options.onLimit(message)
  }

  private write(extra: {endedMs?: number}, wait = true): void {
    const {store, task} = this.options
    store.usage.updateRun(
      task.id,
      this.number,
      {
        ...this.runInfo,
        ...this.tokens,
        costUsd: this.cost.costUsd,
        reportedCostUsd: this.cost.lastReported ?? undefined,
        turns: this.turns,
        results: this.results,
        models: this.models,
        sessionId: this.sessionId,
        ...extra,
      },
      {wait},
    )
    this.dirty = false
    this.lastWrite = this.now()
  }
}

function contentOf(output: OutputEvent): ContentBlock[] {
  const event = output.event
  return event.kind === 'assistant' ? event.content : []
}
