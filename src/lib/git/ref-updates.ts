import {git} from './git-runner.js'
import {refsUnder} from './refs.js'

/**
 * Writing refs: branches made and deleted, refs moved and removed. Names reaching here are
 * validated by the caller (ref-format.ts) and passed in full (`refs/heads/<b>`), so none can be
 * read by git as an option.
 */

export interface UpdateRefOptions {
  /** only when the ref points here now ('': only when it does not exist yet): a compare-and-swap */
  oldSha?: string
  /** the reflog message */
  reason?: string
  /** keep a reflog for a ref that gets none by default */
  createReflog?: boolean
}

/** Point `ref` at `newSha` (`git update-ref`). A compare-and-swap that finds the ref moved throws GitError kind `rejected`. */
export async function updateRef(repo: string, ref: string, newSha: string, options: UpdateRefOptions = {}): Promise<void> {
  const args = ['update-ref', ...(options.createReflog ? ['--create-reflog'] : []), ...(options.reason === undefined ? [] : ['-m', options.reason])]
  await git([...args, ref, newSha, ...(options.oldSha === undefined ? [] : [options.oldSha])], {cwd: repo})
}

/** Make refs/heads/<branch> at `sha` (with a reflog saying why); throws GitError when the branch exists. */
export async function createBranchAt(repo: string, branch: string, sha: string, reason: string): Promise<void> {
  await updateRef(repo, `refs/heads/${branch}`, sha, {oldSha: '', reason, createReflog: true})
}

/** Delete a local branch, merged or not (`git branch -D`). */
export async function deleteBranch(repo: string, branch: string): Promise<void> {
  await git(['branch', '-D', '--', branch], {cwd: repo})
}

/** Delete a private ref quietly. */
export async function deleteRef(repo: string, ref: string): Promise<void> {
  await git(['update-ref', '-d', ref], {cwd: repo, allowFailure: true})
}

/** Delete every ref under `prefix` (ending in `/`) in one transaction; returns how many, 0 when none or when git failed. */
export async function deleteRefsUnder(repo: string, prefix: string, options: {timeoutMs?: number} = {}): Promise<number> {
  const refs = (await refsUnder(repo, prefix, options).catch(() => [])).map((r) => r.ref)
  if (refs.length === 0) return 0
  const input = refs.map((ref) => `delete ${ref}\n`).join('')
  const result = await git(['update-ref', '--stdin'], {cwd: repo, input, allowFailure: true, timeoutMs: options.timeoutMs})
  return result.exitCode === 0 ? refs.length : 0
}
