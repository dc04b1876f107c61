import {existsSync} from 'node:fs'
import path from 'node:path'

import {MakimaError} from '../errors.js'
import {abortMerge, commitMerge, conflictedFiles, listBranchTips, mergeBranch, mergeSourceBranch, MERGE_STRATEGIES, resolveConflictedFile, type MergeStrategy} from '../git/merge.js'
import {branchTip, currentBranch, headCommit, isAncestor} from '../git/refs.js'
import {withRepoLock} from '../os/repo-lock.js'
import {worktreeHealthy} from '../git/worktrees.js'
import {confinedPath} from '../paths.js'
import {MergeStore} from '../store/merge-store.js'
import type {Store} from '../store/store.js'
import {isActive, type TaskRecord} from '../store/task-record.js'

/**
 * The merge family of docs/cli.md for a task's worktree (an integration or orchestrator task
 * merging its subtasks' branches). Each function returns the payload of its protocol.md answer
 * (without `type`); bad input, a missing task and a conflicting state throw MakimaErrors.
 * Everything lives in git and the store, so any process can continue what another started.
 */

export interface MergeContext {
  store: Store
  /** Directory of the cross-process locks ($MAKIMA_HOME/locks): one merge operation per worktree at a time. */
  locksDir: string
}

/** branchList */
export interface BranchInfo {
  name: string
  taskId: string | null
  isMerged: boolean
  lastCommit: string
  lastCommitMessage: string
}
export interface BranchListPayload {
  taskId: string
  branches: BranchInfo[]
}

/** mergeResult */
export interface MergeResultPayload {
  taskId: string
  success: boolean
  message: string
  commitSha?: string
  conflicts?: string[]
}

/** mergeStatusResponse */
export interface MergeStatusPayload {
  taskId: string
  inProgress: boolean
  sourceBranch: string | null
  conflictedFiles: string[]
}

/** mergeCompleteCheck */
export interface MergeCompleteCheckPayload {
  taskId: string
  canComplete: boolean
  unmergedBranches: string[]
  mergedCount: number
  skippedCount: number
}

/** The prefix of every task branch (refs.ts taskBranchName). */
export const TASK_BRANCH_PREFIX = 'makima/'

/** A task and its worktree; INVALID_STATE when the task has no repository or its worktree is gone. */
export async function taskWithWorktree(store: Store, idOrPrefix: string): Promise<{task: TaskRecord; worktree: string}> {
  const task = store.tasks.resolve(idOrPrefix)
  if (!task.repoPath) throw new MakimaError('INVALID_STATE', `task ${task.shortId} has no repository, so nothing can be merged into it`)
  const worktree = task.worktreePath
  if (!worktree || !existsSync(worktree)) {
    throw new MakimaError('INVALID_STATE', `task ${task.shortId} has no worktree${worktree ? ` (${worktree} was removed)` : ' yet (start it first)'}`)
  }
  if (!(await worktreeHealthy(worktree))) throw new MakimaError('INVALID_STATE', `the worktree of task ${task.shortId} (${worktree}) is not a usable git worktree`)
  return {task, worktree}
}

function locked<T>(ctx: MergeContext, worktree: string, fn: () => Promise<T>): Promise<T> {
  return withRepoLock(ctx.locksDir, path.join(worktree, '.makima-merge'), fn)
}

/** listBranches: the task branches (makima/*) of the task's repository other than its own. */
export async function listTaskBranches(store: Store, idOrPrefix: string): Promise<BranchListPayload> {
  const {task, worktree} = await taskWithWorktree(store, idOrPrefix)
  const head = await headCommit(worktree)
  const own = (await currentBranch(worktree)) ?? task.branch
  const tips = (await listBranchTips(worktree, TASK_BRANCH_PREFIX, head)).filter((b) => b.name !== own)
  const owners = new MergeStore(store.db).taskIdsByBranch(
    tips.map((b) => b.name),
    task.repoPath,
  )
  return {
    taskId: task.id,
    branches: tips.map((b) => ({
      name: b.name,
      taskId: owners.get(b.name) ?? null,
      isMerged: b.isMerged,
      lastCommit: b.sha,
      lastCommitMessage: b.subject,
    })),
  }
}

/**
 * mergeStart: merge a local branch into the task's worktree (no-ff). Clean: committed at once,
 * success with the commit sha. Conflicts: the merge stays in progress and the result (success
 * false) lists them.
 */
export async function startMerge(ctx: MergeContext, idOrPrefix: string, sourceBranch: string): Promise<MergeResultPayload> {
  const {task, worktree} = await taskWithWorktree(ctx.store, idOrPrefix)
  const own = (await currentBranch(worktree)) ?? task.branch
  if (sourceBranch === own) throw new MakimaError('INVALID_INPUT', `source branch "${sourceBranch}" is the task's own branch`)
  return locked(ctx, worktree, async () => {
    const outcome = await mergeBranch(worktree, sourceBranch)
    if (outcome.kind === 'conflicts') return {taskId: task.id, success: false, message: outcome.message, conflicts: outcome.conflicts}
    const message = outcome.upToDate ? `Already up to date: ${sourceBranch} is already merged into ${own ?? 'HEAD'}` : `Merged ${sourceBranch} into ${own ?? 'HEAD'} without conflicts`
    return {taskId: task.id, success: true, message, commitSha: outcome.commitSha}
  })
}

/** mergeStatus: is a merge in progress in the task's worktree, from which branch, with which conflicts. */
export async function mergeStatus(store: Store, idOrPrefix: string): Promise<MergeStatusPayload> {
  const {task, worktree} = await taskWithWorktree(store, idOrPrefix)
  const source = await mergeSourceBranch(worktree)
  return {
    taskId: task.id,
    inProgress: source !== undefined,
    sourceBranch: source ?? null,
    conflictedFiles: source === undefined ? [] : await conflictedFiles(worktree),
  }
}

/**
 * mergeResolve: take our or their version of one conflicted file and stage it. The file must stay
 * inside the worktree (after `..` and symlinks) and be conflicted.
 */
export async function resolveMergeConflict(ctx: MergeContext, idOrPrefix: string, file: string, strategy: string): Promise<MergeResultPayload> {
  if (!MERGE_STRATEGIES.includes(strategy as MergeStrategy)) throw new MakimaError('INVALID_INPUT', `invalid strategy "${strategy}": use ours or theirs`)
  const {task, worktree} = await taskWithWorktree(ctx.store, idOrPrefix)
  confinedPath(worktree, file, 'file')
  // git gets the lexical path relative to the worktree root (a conflicted symlink stays itself).
  const relative = path.relative(worktree, path.resolve(worktree, file))
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new MakimaError('INVALID_INPUT', `file "${file}" is not a file inside the worktree`)
  }
  const gitPath = relative.split(path.sep).join('/')
  return locked(ctx, worktree, async () => {
    await resolveConflictedFile(worktree, gitPath, strategy as MergeStrategy)
    const left = await conflictedFiles(worktree)
    const rest = left.length === 0 ? 'no conflicts left' : `still conflicted: ${left.join(', ')}`
    return {taskId: task.id, success: true, message: `Resolved ${gitPath} with ${strategy}; ${rest}`, conflicts: left}
  })
}

/** mergeCommit: commit the merge in progress once no conflicts are left. */
export async function commitTaskMerge(ctx: MergeContext, idOrPrefix: string, message: string): Promise<MergeResultPayload> {
  const {task, worktree} = await taskWithWorktree(ctx.store, idOrPrefix)
  return locked(ctx, worktree, async () => {
    const source = await mergeSourceBranch(worktree)
    const commitSha = await commitMerge(worktree, message)
    return {taskId: task.id, success: true, message: `Merge of ${source ?? 'the branch'} committed`, commitSha}
  })
}

/** mergeAbort: abandon the merge in progress; the worktree is as it was before it started. */
export async function abortTaskMerge(ctx: MergeContext, idOrPrefix: string): Promise<MergeResultPayload> {
  const {task, worktree} = await taskWithWorktree(ctx.store, idOrPrefix)
  return locked(ctx, worktree, async () => {
    const source = await mergeSourceBranch(worktree)
    await abortMerge(worktree)
    return {taskId: task.id, success: true, message: `Merge of ${source ?? 'the branch'} aborted`}
  })
}

/** mergeSkip: record that a subtask's branch is deliberately not merged into the task. */
export async function skipSubtaskMerge(store: Store, idOrPrefix: string, subtaskIdOrPrefix: string, reason: string): Promise<MergeResultPayload> {
  const task = store.tasks.resolve(idOrPrefix)
  const subtask = store.tasks.resolve(subtaskIdOrPrefix)
  const why = typeof reason === 'string' ? reason.trim() : ''
  if (why === '') throw new MakimaError('INVALID_INPUT', 'the reason is empty: say why the subtask is not merged')
  if (subtask.id === task.id) throw new MakimaError('INVALID_INPUT', `subtask "${subtaskIdOrPrefix}" is the task itself`)
  if (subtask.parentTaskId !== task.id) {
    throw new MakimaError('INVALID_INPUT', `task ${subtask.shortId} is not a subtask of ${task.shortId} (its parent is ${subtask.parentTaskId?.slice(0, 8) ?? 'none'})`)
  }
  new MergeStore(store.db).addSkip(task.id, subtask.id, why)
  return {taskId: task.id, success: true, message: `Subtask ${subtask.shortId} skipped: ${why}`}
}

/**
 * checkMergeComplete: the task can complete when every subtask with a branch is merged into the
 * task's HEAD or skipped. A subtask that is still active counts as unmerged (it may commit more)
 * unless skipped; so does one whose branch no longer exists. Unmerged branches are sorted by name.
 */
export async function checkMergeComplete(store: Store, idOrPrefix: string): Promise<MergeCompleteCheckPayload> {
  const {task, worktree} = await taskWithWorktree(store, idOrPrefix)
  const head = await headCommit(worktree)
  const skips = new MergeStore(store.db).skips(task.id)
  const subtasks = store.tasks.list({all: true, parentTaskId: task.id}).filter((t) => t.branch)
  let mergedCount = 0
  let skippedCount = 0
  const unmergedBranches: string[] = []
  for (const sub of subtasks) {
    const branch = sub.branch!
    const sha = await branchTip(worktree, branch)
    if (sha && !isActive(sub.state) && (await isAncestor(worktree, sha, head))) mergedCount++
    else if (skips.has(sub.id)) skippedCount++
    else unmergedBranches.push(branch)
  }
  unmergedBranches.sort()
  return {taskId: task.id, canComplete: unmergedBranches.length === 0, unmergedBranches, mergedCount, skippedCount}
}
