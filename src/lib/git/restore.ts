import path from 'node:path'

import {MakimaError} from '../errors.js'
import {applyPatch} from './patches.js'
import {headCommit} from './refs.js'
import {checkWorktreeTarget, ensureWorktree, removeWorktree, resetTo} from './worktrees.js'

export interface RestoreTarget {
  /** the repository the new worktree belongs to (it must have the commit) */
  repoPath: string
  /** the new worktree's directory: must not exist, or be an empty directory */
  targetDir: string
  /** a new branch for the worktree; default: detached HEAD */
  branch?: string
  /** serialise with other worktree operations on the repository (withRepoLock) */
  locksDir: string
}

export interface Restored {
  targetDir: string
  /** the commit the new worktree's HEAD is at */
  headSha: string
  branch: string | null
}

/**
 * Restore a checkpoint patch (protocol.md "Checkpoint patches"): a new worktree of `repoPath` at
 * `baseSha`, then `git apply --binary` of the gunzipped patch, so its files are byte-identical to
 * the snapshot the patch was taken from (binary files and modes included) as uncommitted changes
 * and untracked files. When the patch does not apply the new worktree is removed again.
 */
export async function restoreFromPatch(options: RestoreTarget & {baseSha: string; patch: Buffer}): Promise<Restored> {
  return addWorktree(options, options.baseSha, async (restored) => applyPatch(restored.targetDir, options.patch))
}

/**
 * A new worktree of `repoPath` at a commit (a real checkpoint commit). With `uncommitOnto` (the
 * commit's parent, for a snapshot commit) HEAD and the index are then moved there while the files
 * stay as the commit has them: the snapshot's work shows as uncommitted changes again.
 */
export async function restoreFromCommit(options: RestoreTarget & {commitSha: string; uncommitOnto?: string}): Promise<Restored> {
  const {uncommitOnto} = options
  return addWorktree(options, options.commitSha, async (restored) => {
    if (!uncommitOnto) return
    await resetTo(restored.targetDir, uncommitOnto, 'mixed')
    restored.headSha = await headCommit(restored.targetDir)
  })
}

/** A new worktree at `rev`, then `then` in it; when that fails, the new worktree is removed again. */
async function addWorktree(options: RestoreTarget, rev: string, then: (restored: Restored) => Promise<void>): Promise<Restored> {
  const targetDir = path.resolve(options.targetDir)
  checkWorktreeTarget(targetDir, true) // before any git command: an unusable target fails at once
  const missingStart = () => new MakimaError('NOT_FOUND', `commit ${rev} is not in ${options.repoPath} (was it garbage-collected or the repository replaced?)`)
  const branch = options.branch ? {name: options.branch, mode: 'new' as const} : undefined
  const {headSha} = await ensureWorktree({repoPath: options.repoPath, worktreePath: targetDir, locksDir: options.locksDir, startAt: rev, branch, allowEmptyDir: true, missingStart})
  const restored: Restored = {targetDir, headSha, branch: options.branch ?? null}
  try {
    await then(restored)
  } catch (error) {
    await removeWorktree(options.repoPath, targetDir, options.locksDir, {quiet: true}).catch(() => undefined)
    throw error
  }
  return restored
}
