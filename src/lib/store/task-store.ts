import {MakimaError} from '../errors.js'
import {retryWhileBusy} from './busy.js'
import {immediate, type Db} from './database.js'
import {ACTIVE_STATES, type TaskPatch, type TaskRecord, type TaskState} from './task-record.js'

const COLUMNS: Record<keyof TaskRecord, string> = {
  id: 'id',
  shortId: 'short_id',
  name: 'name',
  state: 'state',
  plan: 'plan',
  origin: 'origin',
  repoSource: 'repo_source',
  repoPath: 'repo_path',
  baseBranch: 'base_branch',
  targetBranch: 'target_branch',
  targetRepo: 'target_repo',
  branch: 'branch',
  worktreePath: 'worktree_path',
  baseSha: 'base_sha',
  parentTaskId: 'parent_task_id',
  isOrchestrator: 'is_orchestrator',
  isSupervisor: 'is_supervisor',
  autonomous: 'autonomous',
  contractId: 'contract_id',
  continueFromTaskId: 'continue_from_task_id',
  copyFiles: 'copy_files',
  taskPort: 'task_port',
  skipSetup: 'skip_setup',
  completionActionKind: 'completion_action_kind',
  completionAction: 'completion_action',
  pid: 'pid',
  runnerPid: 'runner_pid',
  runnerStart: 'runner_start',
  exitCode: 'exit_code',
  error: 'error',
  failureKind: 'failure_kind',
  sessionId: 'session_id',
  limits: 'limits',
  queueSeq: 'queue_seq',
  rateLimitedUntil: 'rate_limited_until',
  resumeAfterLimit: 'resume_after_limit',
  needsRecovery: 'needs_recovery',
  createdAt: 'created_at',
  startedAt: 'started_at',
  completedAt: 'completed_at',
  updatedAt: 'updated_at',
}
const BOOLEANS = new Set<keyof TaskRecord>(['isOrchestrator', 'isSupervisor', 'autonomous', 'needsRecovery', 'skipSetup', 'resumeAfterLimit'])
const JSONS = new Set<keyof TaskRecord>(['copyFiles', 'completionAction', 'limits'])
const FIELDS = Object.keys(COLUMNS) as (keyof TaskRecord)[]

function toRow(key: keyof TaskRecord, value: unknown): unknown {
  if (value === undefined || value === null) return null
  if (BOOLEANS.has(key)) return value ? 1 : 0
  if (JSONS.has(key)) return JSON.stringify(value)
  return value
}

function fromRow(row: Record<string, unknown>): TaskRecord {
  const task: Record<string, unknown> = {}
  for (const key of FIELDS) {
    const value = row[COLUMNS[key]]
    if (BOOLEANS.has(key)) task[key] = value === 1
    else if (JSONS.has(key)) task[key] = value === null ? null : JSON.parse(value as string)
    else task[key] = value ?? null
  }
  return task as unknown as TaskRecord
}

const ACTIVE_SQL = ACTIVE_STATES.map((s) => `'${s}'`).join(',')

export interface SlotCaps {
  maxConcurrentTasks: number
  maxTasksPerContract?: number
}

export interface StateChange {
  task: TaskRecord
  oldState: TaskState
  newState: TaskState
}

/** Tasks in the store. All writes are single statements or IMMEDIATE transactions, tried again while the database is busy. */
export class TaskStore {
  constructor(private readonly db: Db) {}

  insert(task: TaskRecord): void {
    const cols = FIELDS.map((k) => COLUMNS[k])
    const insert = this.db.prepare(`INSERT INTO tasks (${cols.join(',')}) VALUES (${cols.map(() => '?').join(',')})`)
    retryWhileBusy(this.db, () => insert.run(...FIELDS.map((k) => toRow(k, task[k]))))
  }

  get(id: string): TaskRecord | undefined {
    const row = this.db.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as Record<string, unknown> | undefined
    return row ? fromRow(row) : undefined
  }

  require(id: string): TaskRecord {
    const task = this.get(id)
    if (!task) throw new MakimaError('NOT_FOUND', `no task ${id}`)
    return task
  }

  /** Resolve a full id or a unique prefix of at least 4 hex characters. */
  resolve(idOrPrefix: string): TaskRecord {
    const value = idOrPrefix.trim().toLowerCase()
    if (!/^[0-9a-f-]{4,36}$/.test(value)) {
      throw new MakimaError('INVALID_INPUT', `invalid task id "${idOrPrefix}": give the task's UUID or at least its first 4 hex characters`)
    }
    const rows = this.db.prepare('SELECT * FROM tasks WHERE id LIKE ? ORDER BY created_at LIMIT 3').all(`${value}%`) as Record<string, unknown>[]
    if (rows.length === 0) throw new MakimaError('NOT_FOUND', `no task matches id "${idOrPrefix}"`)
    if (rows.length > 1) {
      const ids = rows.map((r) => r.short_id).join(', ')
      throw new MakimaError('INVALID_INPUT', `task id "${idOrPrefix}" is ambiguous (matches ${ids}${rows.length > 2 ? ', …' : ''}): give more characters`)
    }
    return fromRow(rows[0])
  }

  list(options: {all?: boolean; parentTaskId?: string; states?: readonly TaskState[]} = {}): TaskRecord[] {
    const where: string[] = []
    const params: unknown[] = []
    if (options.states) {
      where.push(`state IN (${options.states.map(() => '?').join(',')})`)
      params.push(...options.states)
    } else if (!options.all) where.push(`state NOT IN ('completed','failed','interrupted')`)
    if (options.parentTaskId) {
      where.push('parent_task_id = ?')
      params.push(options.parentTaskId)
    }
    const sql = `SELECT * FROM tasks ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at, id`
    return (this.db.prepare(sql).all(...params) as Record<string, unknown>[]).map(fromRow)
  }

  update(id: string, patch: TaskPatch): TaskRecord {
    const keys = (Object.keys(patch) as (keyof TaskPatch)[]).filter((k) => patch[k] !== undefined)
    const sets = [...keys.map((k) => `${COLUMNS[k]} = ?`), 'updated_at = ?']
    const values = [...keys.map((k) => toRow(k, patch[k])), new Date().toISOString()]
    const update = this.db.prepare(`UPDATE tasks SET ${sets.join(', ')} WHERE id = ?`)
    retryWhileBusy(this.db, () => update.run(...values, id))
    return this.require(id)
  }

  /**
   * Move a task to `to` if its current state is one of `from` (atomically); returns the change,
   * or throws INVALID_STATE naming the current state.
   */
  transition(id: string, from: readonly TaskState[] | 'any', to: TaskState, patch: TaskPatch = {}): StateChange {
    return immediate(this.db, () => {
      const task = this.require(id)
      if (from !== 'any' && !from.includes(task.state)) {
        throw new MakimaError('INVALID_STATE', `task ${task.shortId} is ${task.state}; cannot move it to ${to}`)
      }
      const updated = this.update(id, {...patch, state: to})
      return {task: updated, oldState: task.state, newState: to}
    })
  }

  /**
   * Take a concurrency slot: in one IMMEDIATE transaction count the other active tasks and, when
   * below the caps, move the task to `initializing`. `task` is either a new record (inserted in
   * the same transaction, so nothing is recorded when the cap is full) or the id of a task whose
   * state must be one of `from`. Holds across every process that shares the database.
   */
  acquireSlot(task: TaskRecord | string, caps: SlotCaps, from: readonly TaskState[] = ['pending'], patch: TaskPatch = {}): StateChange {
    return immediate(this.db, () => {
      const {existing, record} = this.admissionTarget(task, from)
      this.checkCaps(record, caps)
      return this.place(existing, record, {...patch, state: 'initializing', queueSeq: null})
    })
  }

  /**
   * acquireSlot with a queue (task spawn/start --queue): in the same IMMEDIATE transaction, when
   * the caps are full or other tasks are queued (nobody jumps the queue), the task is recorded as
   * `queued` at the end of the machine's queue, with `queuedPatch` (its owner: the runner fields
   * of the process waiting for it, or null for nobody). promoteQueued starts it later. `held`: a
   * rate limit holds admission (tasks/rate-hold.ts): queued whatever the caps.
   */
  admitOrQueue(task: TaskRecord | string, caps: SlotCaps, from: readonly TaskState[], patch: TaskPatch, queuedPatch: TaskPatch, held = false): StateChange {
    return immediate(this.db, () => {
      const {existing, record} = this.admissionTarget(task, from)
      if (!held && this.queueLength() === 0) {
        try {
          this.checkCaps(record, caps)
          return this.place(existing, record, {...patch, state: 'initializing', queueSeq: null})
        } catch (error) {
          if (!(error instanceof MakimaError) || (error.code !== 'CONCURRENCY_LIMIT' && error.code !== 'CONTRACT_CONCURRENCY_LIMIT')) throw error
        }
      }
      const last = this.db.prepare('SELECT max(queue_seq) AS n FROM tasks').get() as {n: number | null}
      return this.place(existing, record, {...queuedPatch, state: 'queued', queueSeq: (last.n ?? 0) + 1})
    })
  }

  private admissionTarget(task: TaskRecord | string, from: readonly TaskState[]): {existing?: TaskRecord; record: TaskRecord} {
    const existing = typeof task === 'string' ? this.require(task) : undefined
    if (existing && !from.includes(existing.state)) {
      throw new MakimaError('INVALID_STATE', `task ${existing.shortId} is ${existing.state}; it cannot be started`)
    }
    return {existing, record: existing ?? (task as TaskRecord)}
  }

  private place(existing: TaskRecord | undefined, record: TaskRecord, patch: TaskPatch & {state: TaskState}): StateChange {
    if (existing) return {task: this.update(record.id, patch), oldState: existing.state, newState: patch.state}
    this.insert({...record, ...patch})
    return {task: this.require(record.id), oldState: 'pending', newState: patch.state}
  }

  /** The queued tasks, next to start first. */
  queue(): TaskRecord[] {
    return (this.db.prepare("SELECT * FROM tasks WHERE state = 'queued' ORDER BY queue_seq, created_at").all() as Record<string, unknown>[]).map(fromRow)
  }

  queueLength(): number {
    return (this.db.prepare("SELECT count(*) AS n FROM tasks WHERE state = 'queued'").get() as {n: number}).n
  }

  /** A queued task's place: 1 = the next to start; null when it is not queued. */
  queuePosition(task: TaskRecord): number | null {
    if (task.state !== 'queued' || task.queueSeq === null) return null
    const ahead = this.db.prepare("SELECT count(*) AS n FROM tasks WHERE state = 'queued' AND queue_seq < ?").get(task.queueSeq) as {n: number}
    return ahead.n + 1
  }

  /**
   * Start queued tasks while slots are free, oldest first, in one IMMEDIATE transaction. A task
   * whose owner (the attached spawn waiting for it) is alive and is not this process keeps its
   * slot reserved: its owner promotes it at its next poll. Every other one (no owner, a dead
   * owner, or this process) moves to `initializing` with `runner` as its runner fields; the
   * caller runs it or starts a detached runner for it. Returns the promoted tasks.
   */
  promoteQueued(caps: SlotCaps, runner: TaskPatch & {runnerPid: number; runnerStart: string | null}, ownerAlive: (task: TaskRecord) => boolean): StateChange[] {
    if (this.queueLength() === 0 || this.countActive() >= caps.maxConcurrentTasks) return [] // one read, no write lock
    return immediate(this.db, () => {
      let free = caps.maxConcurrentTasks - this.countActive()
      const promoted: StateChange[] = []
      for (const task of this.queue()) {
        if (free <= 0) break
        free--
        const own = task.runnerPid === runner.runnerPid && task.runnerStart === runner.runnerStart
        if (!own && task.runnerPid !== null && ownerAlive(task)) continue
        promoted.push({task: this.update(task.id, {...runner, state: 'initializing', queueSeq: null}), oldState: 'queued', newState: 'initializing'})
      }
      return promoted
    })
  }

  private checkCaps(task: TaskRecord, caps: SlotCaps): void {
    const active = this.db.prepare(`SELECT count(*) AS n FROM tasks WHERE state IN (${ACTIVE_SQL}) AND id != ?`).get(task.id) as {n: number}
    if (active.n >= caps.maxConcurrentTasks) {
      throw new MakimaError(
        'CONCURRENCY_LIMIT',
        `concurrency limit reached: ${active.n} of ${caps.maxConcurrentTasks} task slots are taken (process.maxConcurrentTasks); wait for a task to end or raise the limit`,
      )
    }
    if (!task.contractId || caps.maxTasksPerContract === undefined) return
    const perContract = this.db.prepare(`SELECT count(*) AS n FROM tasks WHERE state IN (${ACTIVE_SQL}) AND contract_id = ? AND id != ?`).get(task.contractId, task.id) as {n: number}
    if (perContract.n >= caps.maxTasksPerContract) {
      throw new MakimaError('CONTRACT_CONCURRENCY_LIMIT', `contract ${task.contractId} already has ${perContract.n} active tasks (process.maxTasksPerContract = ${caps.maxTasksPerContract})`)
    }
  }

  /** Every repository and worktree directory a task of this store names (distinct, unordered). */
  repositoryPaths(): string[] {
    const rows = this.db.prepare('SELECT repo_path AS p FROM tasks WHERE repo_path IS NOT NULL UNION SELECT worktree_path FROM tasks WHERE worktree_path IS NOT NULL').all() as {p: string}[]
    return rows.map((r) => r.p)
  }

  countActive(): number {
    return (this.db.prepare(`SELECT count(*) AS n FROM tasks WHERE state IN (${ACTIVE_SQL})`).get() as {n: number}).n
  }

  /**
   * Delete ended tasks (and their output, checkpoints, inbox, runs) older than `days`; returns them (id
   * and repository, for their side refs). Every spawn asks: when none has expired this is one
   * read, without the write lock.
   */
  purgeEnded(days: number): {id: string; repoPath: string | null}[] {
    const cutoff = new Date(Date.now() - days * 86_400_000).toISOString()
    const expired = () =>
      (
        this.db.prepare(`SELECT id, repo_path FROM tasks WHERE state IN ('completed','failed','interrupted') AND coalesce(completed_at, updated_at) < ?`).all(cutoff) as {
          id: string
          repo_path: string | null
        }[]
      ).map((r) => ({id: r.id, repoPath: r.repo_path}))
    if (expired().length === 0) return []
    return immediate(this.db, () => {
      const tasks = expired()
      for (const table of ['output', 'checkpoints', 'inbox', 'runs']) {
        const stmt = this.db.prepare(`DELETE FROM ${table} WHERE task_id = ?`)
        for (const {id} of tasks) stmt.run(id)
      }
      const del = this.db.prepare('DELETE FROM tasks WHERE id = ?')
      for (const {id} of tasks) del.run(id)
      return tasks
    })
  }
}
