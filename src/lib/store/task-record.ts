import {redactCredentials} from '../redact.js'
import type {TaskLimits} from '../tasks/limits/limits.js'
import type {TaskUsage} from './task-usage.js'
/** A task as the store keeps it, and the lifecycle states of docs/cli.md. */
export const TASK_STATES = ['pending', 'queued', 'initializing', 'starting', 'running', 'paused', 'completed', 'failed', 'interrupted'] as const
export type TaskState = (typeof TASK_STATES)[number]

/** States that hold a concurrency slot and have (or are about to have) a runner. */
export const ACTIVE_STATES: readonly TaskState[] = ['initializing', 'starting', 'running', 'paused']
export const ENDED_STATES: readonly TaskState[] = ['completed', 'failed', 'interrupted']

/** Waiting for a slot (task spawn/start --queue): holds none, started in queue order (task-store.ts promoteQueued). */
export const WAITING_STATES: readonly TaskState[] = ['pending', 'queued']

export const isActive = (state: TaskState) => ACTIVE_STATES.includes(state)
export const isEnded = (state: TaskState) => ENDED_STATES.includes(state)

export type CompletionActionKind = 'none' | 'branch' | 'merge' | 'pr'
export interface CompletionActionResult {
  action: CompletionActionKind
  ok: boolean | null
  error: string | null
  url: string | null
}

/**
 * Why a failed task failed, when it is one of the failures makima acts on: `auth` = Claude Code
 * is not logged in or its token expired (the daemon starts its login flow); `limit` = one of the
 * task's limits stopped it (tasks/limits.ts; `task send` resumes it only with new limits);
 * `usage_limit` = Claude Code's usage limit (a subscription's 5-hour or weekly limit) ended it:
 * `rateLimitedUntil` says when it resets, `task send` or --resume-after-limit resumes it then.
 */
export type FailureKind = 'auth' | 'limit' | 'usage_limit'

export interface TaskRecord {
  id: string
  shortId: string
  name: string
  state: TaskState
  plan: string
  origin: 'cli' | 'daemon'
  repoSource: string | null
  /** The local repository the worktree belongs to (the source path, or the clone cache dir). */
  repoPath: string | null
  baseBranch: string | null
  targetBranch: string | null
  targetRepo: string | null
  branch: string | null
  worktreePath: string | null
  baseSha: string | null
  parentTaskId: string | null
  isOrchestrator: boolean
  isSupervisor: boolean
  autonomous: boolean
  contractId: string | null
  continueFromTaskId: string | null
  copyFiles: string[] | null
  /** the free TCP port reserved for the task when its worktree was made (MAKIMA_TASK_PORT) */
  taskPort: number | null
  /** --no-setup: the setup command (and at cleanup the teardown) is not run */
  skipSetup: boolean
  completionActionKind: CompletionActionKind
  completionAction: CompletionActionResult | null
  /** pid of the claude process of the current run */
  pid: number | null
  /** pid of the process hosting the task (attached spawn, `task run`, or the daemon) */
  runnerPid: number | null
  /** start time of runnerPid (from /proc), to tell a live runner from a reused pid */
  runnerStart: string | null
  exitCode: number | null
  error: string | null
  failureKind: FailureKind | null
  sessionId: string | null
  /** wall time, turns and cost the task may use (null: none) */
  limits: TaskLimits | null
  /** place in the machine's queue while `queued` (ascending, FIFO; null otherwise) */
  queueSeq: number | null
  /** ISO time a rate limit lifts: of the usage limit that ended it, or of the hold it waits out while queued */
  rateLimitedUntil: string | null
  /** --resume-after-limit: resumed with a short "continue" once a usage limit that ended it resets */
  resumeAfterLimit: boolean
  needsRecovery: boolean
  createdAt: string
  startedAt: string | null
  completedAt: string | null
  updatedAt: string
}

export type TaskPatch = Partial<Omit<TaskRecord, 'id' | 'shortId' | 'createdAt'>>

/**
 * A new task record: every field at its starting value (pending, no repository, nothing run,
 * nothing held), then `fields`. The one place a column's default lives (task spec, test fixtures,
 * bench seeds).
 */
export function newTaskRecord(fields: Pick<TaskRecord, 'id' | 'name' | 'plan'> & Partial<TaskRecord>): TaskRecord {
  const now = new Date().toISOString()
  return {
    shortId: fields.id.slice(0, 8),
    state: 'pending',
    origin: 'cli',
    repoSource: null,
    repoPath: null,
    baseBranch: null,
    targetBranch: null,
    targetRepo: null,
    branch: null,
    worktreePath: null,
    baseSha: null,
    parentTaskId: null,
    isOrchestrator: false,
    isSupervisor: false,
    autonomous: false,
    contractId: null,
    continueFromTaskId: null,
    copyFiles: null,
    taskPort: null,
    skipSetup: false,
    completionActionKind: 'none',
    completionAction: null,
    pid: null,
    runnerPid: null,
    runnerStart: null,
    exitCode: null,
    error: null,
    failureKind: null,
    sessionId: null,
    limits: null,
    queueSeq: null,
    rateLimitedUntil: null,
    resumeAfterLimit: false,
    needsRecovery: false,
    createdAt: now,
    startedAt: null,
    completedAt: null,
    updatedAt: now,
    ...fields,
  }
}

/** The task object of docs/cli.md (`--json`). */
export interface TaskJson {
  id: string
  shortId: string
  name: string
  state: TaskState
  plan: string
  repoSource: string | null
  baseBranch: string | null
  branch: string | null
  worktreePath: string | null
  parentTaskId: string | null
  isOrchestrator: boolean
  pid: number | null
  /** the process hosting the task: the attached spawn, the detached runner or the daemon */
  runnerPid: number | null
  exitCode: number | null
  error: string | null
  failureKind: FailureKind | null
  sessionId: string | null
  createdAt: string
  startedAt: string | null
  completedAt: string | null
  origin: 'cli' | 'daemon'
  baseSha: string | null
  completionAction: CompletionActionResult | null
  taskPort: number | null
  /** what the task's runs of Claude Code used, all runs together (usage-store.ts) */
  usage: TaskUsage
  limits: TaskLimits | null
  /** while `queued`: 1 for the next task to start, 2 for the one after, ...; else null */
  queuePosition: number | null
  /** when the rate limit that ended (failureKind usage_limit) or holds (queued) the task lifts, else null */
  rateLimitedUntil: string | null
  resumeAfterLimit: boolean
}

export function toTaskJson(task: TaskRecord, usage: TaskUsage, queuePosition: number | null = null): TaskJson {
  const completionAction = task.completionAction ?? (task.completionActionKind === 'none' ? null : {action: task.completionActionKind, ok: null, error: null, url: null})
  return {
    id: task.id,
    shortId: task.shortId,
    name: task.name,
    state: task.state,
    plan: task.plan,
    repoSource: task.repoSource === null ? null : redactCredentials(task.repoSource),
    baseBranch: task.baseBranch,
    branch: task.branch,
    worktreePath: task.worktreePath,
    parentTaskId: task.parentTaskId,
    isOrchestrator: task.isOrchestrator,
    pid: task.pid,
    runnerPid: task.runnerPid,
    exitCode: task.exitCode,
    error: task.error,
    failureKind: task.failureKind,
    sessionId: task.sessionId,
    createdAt: task.createdAt,
    startedAt: task.startedAt,
    completedAt: task.completedAt,
    origin: task.origin,
    baseSha: task.baseSha,
    completionAction,
    taskPort: task.taskPort,
    usage,
    limits: task.limits ?? null,
    queuePosition: task.state === 'queued' ? queuePosition : null,
    rateLimitedUntil: task.rateLimitedUntil ?? null,
    resumeAfterLimit: task.resumeAfterLimit ?? false,
  }
}
