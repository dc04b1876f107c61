import {existsSync} from 'node:fs'

import {MakimaError} from '../../errors.js'
import {diffText} from '../../git/changes.js'
import {headCommit, mergeBase, resolveCommit} from '../../git/refs.js'
import {writeWorktreeTree} from '../../git/snapshot.js'
import type {Store} from '../../store/store.js'
import type {TaskRecord} from '../../store/task-record.js'

/** The payload of protocol.md's `taskDiff` (without `type`). */
export interface TaskDiffPayload {
  taskId: string
  success: boolean
  diff?: string
  error?: string
}

export interface TaskDiff {
  diff: string
  /** the commit the diff is taken against: merge-base of the task's work with its base branch */
  mergeBase: string
  /** what the diff shows: the live worktree, or (worktree removed) the final snapshot or the branch */
  source: 'worktree' | 'snapshot' | 'branch'
  /** a note for people when the source is not the worktree */
  note?: string
}

/**
 * The task's work as a diff against the merge-base of the task branch with its base branch
 * (design.md weakness 8: never "the last N commits"): committed work, working tree and untracked
 * files (as added files; a temporary index holds them, the worktree's own is untouched), binary
 * files as `--binary` hunks so the output applies with `git apply`. `stat`: a diffstat instead.
 * A task whose worktree was cleaned up shows its final snapshot, or its branch.
 * No repository or no worktree yet, or branch and worktree both gone -> INVALID_STATE.
 */
export async function computeTaskDiff(store: Store, task: TaskRecord, options: {stat?: boolean} = {}): Promise<TaskDiff> {
  if (!task.repoPath) throw new MakimaError('INVALID_STATE', `task ${task.shortId} has no repository (it works in a plain directory): it has no diff`)
  if (!task.worktreePath) throw new MakimaError('INVALID_STATE', `task ${task.shortId} is ${task.state} and has no worktree yet: it has no diff`)
  let cwd: string
  let target: string
  let source: TaskDiff['source']
  let note: string | undefined
  if (existsSync(task.worktreePath)) {
    cwd = task.worktreePath
    target = await writeWorktreeTree(cwd)
    source = 'worktree'
  } else {
    const gone = `the worktree of task ${task.shortId} (${task.worktreePath}) was cleaned up`
    if (!existsSync(task.repoPath)) throw new MakimaError('INVALID_STATE', `${gone} and its repository ${task.repoPath} is gone: it has no diff`)
    cwd = task.repoPath
    const branchSha = task.branch ? await resolveCommit(cwd, `refs/heads/${task.branch}`) : undefined
    if (!branchSha) throw new MakimaError('INVALID_STATE', `${gone} and its branch ${task.branch ?? '(none)'} is gone: it has no diff`)
    target = branchSha
    source = 'branch'
    note = `${gone}: showing the committed work on ${task.branch}`
    // The final snapshot (taken before cleanup) has the uncommitted work on top of the branch.
    const snap = store.checkpoints.latest(task.id, 'snapshot')
    const snapSha = snap?.commitSha ? await resolveCommit(cwd, snap.commitSha) : undefined
    if (snap && snapSha && (await resolveCommit(cwd, `${snapSha}^`)) === branchSha) {
      target = snapSha
      source = 'snapshot'
      note = `${gone}: showing ${task.branch} with the uncommitted work of snapshot ${snap.number}`
    }
  }
  const mergeBase = await diffBase(cwd, task, source === 'worktree' ? 'HEAD' : target)
  const diff = await diffText(cwd, mergeBase, target, options)
  return {diff, mergeBase, source, note}
}

/** computeTaskDiff as the protocol's `taskDiff` answer. */
export async function taskDiff(store: Store, task: TaskRecord, options: {stat?: boolean} = {}): Promise<TaskDiffPayload> {
  const {diff} = await computeTaskDiff(store, task, options)
  return {taskId: task.id, success: true, diff}
}

/**
 * The merge-base of `head` with the task's base branch (a local branch, else origin's, else the
 * ref as given: a tag or a sha); the task's baseSha when the base is gone or the histories share
 * nothing.
 */
async function diffBase(cwd: string, task: TaskRecord, head: string): Promise<string> {
  const candidates = task.baseBranch ? [`refs/heads/${task.baseBranch}`, `refs/remotes/origin/${task.baseBranch}`, task.baseBranch] : []
  for (const candidate of candidates) {
    const sha = await resolveCommit(cwd, candidate)
    if (!sha) continue
    const base = await mergeBase(cwd, head, sha)
    if (base) return base
  }
  if (task.baseSha && (await resolveCommit(cwd, task.baseSha))) return task.baseSha
  return headCommit(cwd)
}
