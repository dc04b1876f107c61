import {git} from './git-runner.js'
import {applyPatch, workingTreePatch} from './patches.js'
import {abbreviate} from './refs.js'

export interface WorktreeClone {
  /** the clone's HEAD, abbreviated to 8 or more hex digits */
  shortSha: string
  /** the worktree's uncommitted work came along (as uncommitted work) */
  withChanges: boolean
}

/**
 * Copy a worktree of `repo` to `dest` (a new or empty directory) as an independent repository that
 * keeps the history: `git clone --no-checkout` of `repo` (its `origin` then), the worktree's HEAD
 * pushed into it as `branch` (validated by the caller) and checked out, then the worktree's
 * uncommitted work (tracked changes and untracked files, not ignored ones) applied as a binary
 * patch and left uncommitted as in the worktree. The caller removes `dest` when this fails.
 */
export async function cloneWorktreeTo(worktree: string, options: {repo: string; branch: string; dest: string}): Promise<WorktreeClone> {
  const {repo, branch, dest} = options
  await git(['clone', '--quiet', '--no-checkout', '--', repo, dest], {cwd: repo})
  await git(['push', '--quiet', '--end-of-options', dest, `+HEAD:refs/heads/${branch}`], {cwd: worktree})
  await git(['checkout', '--quiet', branch, '--'], {cwd: dest})
  const patch = await workingTreePatch(worktree)
  await applyPatch(dest, patch)
  return {shortSha: await abbreviate(dest, 'HEAD', 8), withChanges: patch.length > 0}
}
