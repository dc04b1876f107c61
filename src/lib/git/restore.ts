import {existsSync, mkdirSync, readdirSync, statSync} from 'node:fs'
import path from 'node:path'

import {MakimaError} from '../errors.js'
import {git, gitText} from './git-runner.js'
import {applyPatch} from './patches.js'
import {validateBranchName} from './ref-format.js'
import {resolveCommit} from './refs.js'
import {withRepoLock} from './repo-lock.js'

export interface RestoreTarget {
  /** the repository the new worktree belongs to (it must have the commit) */
  repoPath: string
  /** the new worktree's directory: must not exist, or be an empty directory */
  targetDir: string
  /** a new branch for the worktree; default: detached HEAD */
  branch?: string
  /** serialise with other worktree operations on the repository (withRepoLock) */
  locksDir?: string
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
  const restored = await addWorktree(options, options.baseSha)
  try {
    await applyPatch(restored.targetDir, options.patch)
  } catch (error) {
    await removeQuietly(options.repoPath, restored.targetDir)
    throw error
  }
  return restored
}

/**
 * A new worktree of `repoPath` at a commit (a real checkpoint commit). With `uncommitOnto` (the
 * commit's parent, for a snapshot commit) HEAD and the index are then moved there while the files
 * stay as the commit has them: the snapshot's work shows as uncommitted changes again.
 */
export async function restoreFromCommit(options: RestoreTarget & {commitSha: string; uncommitOnto?: string}): Promise<Restored> {
  const restored = await addWorktree(options, options.commitSha)
  if (options.uncommitOnto) {
    try {
      await git(['reset', '--quiet', '--mixed', options.uncommitOnto], {cwd: restored.targetDir})
      restored.headSha = await gitText(['rev-parse', 'HEAD'], {cwd: restored.targetDir})
    } catch (error) {
      await removeQuietly(options.repoPath, restored.targetDir)
      throw error
    }
  }
  return restored
}

/** Refuse a target that exists and is not an empty directory (INVALID_STATE): nothing is overwritten. */
export function checkRestoreTarget(targetDir: string): void {
  if (!existsSync(targetDir)) return
  if (!statSync(targetDir).isDirectory()) throw new MakimaError('INVALID_STATE', `${targetDir} exists and is not a directory`)
  if (readdirSync(targetDir).length > 0) throw new MakimaError('INVALID_STATE', `${targetDir} exists and is not empty: give a new or empty directory`)
}

async function addWorktree(options: RestoreTarget, rev: string): Promise<Restored> {
  const targetDir = path.resolve(options.targetDir)
  checkRestoreTarget(targetDir)
  const sha = await resolveCommit(options.repoPath, rev)
  if (!sha) throw new MakimaError('NOT_FOUND', `commit ${rev} is not in ${options.repoPath} (was it garbage-collected or the repository replaced?)`)
  if (options.branch) validateBranchName(options.branch)
  const add = async () => {
    checkRestoreTarget(targetDir)
    mkdirSync(path.dirname(targetDir), {recursive: true})
    const branchArgs = options.branch ? ['-b', options.branch] : ['--detach']
    await git(['worktree', 'add', '--quiet', ...branchArgs, '--', targetDir, sha], {cwd: options.repoPath})
  }
  await (options.locksDir ? withRepoLock(options.locksDir, options.repoPath, add) : add())
  return {targetDir, headSha: sha, branch: options.branch ?? null}
}

async function removeQuietly(repoPath: string, worktree: string): Promise<void> {
  await git(['worktree', 'remove', '--force', '--force', '--', worktree], {cwd: repoPath, allowFailure: true})
  await git(['worktree', 'prune'], {cwd: repoPath, allowFailure: true})
}
