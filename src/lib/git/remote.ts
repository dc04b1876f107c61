import {existsSync, statSync} from 'node:fs'
import path from 'node:path'

import {expandHome} from '../os/home-path.js'
import {MakimaError} from '../errors.js'
import {classifyGitError, gitMessage, isGitError} from './git-error.js'
import {git, gitText} from './git-runner.js'
import {updateRef} from './ref-updates.js'
import {worktreesOnBranch} from './worktree-list.js'

/**
 * Remotes and delivery of work (docs/cli.md "Completion actions"): where a task's work goes,
 * pushing a branch, reading a branch tip of another repository, and moving a branch of a local
 * repository without ever leaving it half-merged. Branch names reaching these functions are
 * validated by the caller (ref-format.ts); every refspec is fully qualified (`refs/heads/...`)
 * and every destination is a remote name or an absolute path, so nothing here can be read by git
 * as an option.
 */

/** A push or fetch that has not finished after this long is given up (an unreachable host, a hung ssh). */
const NETWORK_TIMEOUT_MS = 5 * 60_000

/** The URL of a remote of `repo`, or undefined when it has no such remote. */
export async function remoteUrl(repo: string, name: string): Promise<string | undefined> {
  const result = await git(['remote', 'get-url', '--', name], {cwd: repo, allowFailure: true})
  const url = result.stdout.trim()
  return result.exitCode === 0 && url ? url : undefined
}

/**
 * Fetch refs/heads/<branch> of `source` (a remote name of `repo` or a repository path) into the
 * private ref `intoRef` of `repo`. Returns the fetched sha, or undefined when the source has no
 * such branch. The caller deletes `intoRef` when done.
 */
export async function fetchBranchTip(repo: string, source: string, branch: string, intoRef: string): Promise<string | undefined> {
  const args = ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--end-of-options', source, `+refs/heads/${branch}:${intoRef}`]
  const r = await git(args, {cwd: repo, allowFailure: true, timeoutMs: NETWORK_TIMEOUT_MS})
  if (r.exitCode !== 0) {
    if (classifyGitError(r.stderr) === 'missing-remote-ref') return undefined
    throw new MakimaError('FAILED', `cannot fetch ${branch} from ${source}: ${gitMessage(r.stderr)}`)
  }
  return gitText(['rev-parse', '--verify', `${intoRef}^{commit}`], {cwd: repo})
}

/**
 * Push `source` (a full ref or a sha of `repo`) to `destRef` of `destination` (a remote name or a
 * repository path). No force: a ref that moved elsewhere is rejected by git, never overwritten.
 */
export async function push(repo: string, destination: string, source: string, destRef: string): Promise<void> {
  const r = await git(['push', '--quiet', '--porcelain', '--end-of-options', destination, `${source}:${destRef}`], {cwd: repo, allowFailure: true, timeoutMs: NETWORK_TIMEOUT_MS})
  if (r.exitCode !== 0) {
    const rejected = r.stdout.split('\n').find((l) => l.startsWith('!'))
    const reason = rejected ? rejected.split('\t').pop()?.trim() : undefined
    throw new MakimaError('FAILED', `git push of ${destRef} to ${destination} failed: ${reason ?? gitMessage(r.stderr)}`)
  }
}

/**
 * Move refs/heads/<branch> of the local repository `repo` from `oldSha` to `newSha` (a descendant
 * of it whose objects are already in `repo`), safely:
 * - not checked out anywhere: `git update-ref <ref> <new> <old>`, an atomic compare-and-swap
 *   (fails when the branch moved meanwhile);
 * - checked out in a worktree: only when that worktree has no uncommitted changes to tracked
 *   files, by `git merge --ff-only <new>` there, so its files follow the branch; git itself
 *   refuses when an untracked file would be overwritten or the branch moved. Nothing else in that
 *   working tree is touched, and a refusal leaves everything as it was.
 */
export async function advanceLocalBranch(repo: string, branch: string, oldSha: string, newSha: string, reason: string): Promise<void> {
  const [checkedOut] = await worktreesOnBranch(repo, branch)
  if (!checkedOut) {
    try {
      await updateRef(repo, `refs/heads/${branch}`, newSha, {oldSha, reason})
    } catch (error) {
      const why = isGitError(error) ? gitMessage(error.stderr) : (error as Error).message
      throw new MakimaError('FAILED', `branch ${branch} of ${repo} moved while makima was updating it: retry (${why})`)
    }
    return
  }
  if (!existsSync(checkedOut)) throw new MakimaError('FAILED', `branch ${branch} is checked out in ${checkedOut}, which is missing: run \`git -C ${repo} worktree prune\` and retry`)
  const dirty = await gitText(['status', '--porcelain', '--untracked-files=no'], {cwd: checkedOut})
  if (dirty) {
    throw new MakimaError('FAILED', `branch ${branch} is checked out in ${checkedOut} with uncommitted changes: commit or stash them there, then retry`)
  }
  const r = await git(['merge', '--ff-only', '--quiet', '--no-edit', newSha], {cwd: checkedOut, allowFailure: true})
  if (r.exitCode !== 0) {
    throw new MakimaError('FAILED', `could not fast-forward ${branch} in ${checkedOut}: ${gitMessage(r.stderr)}`)
  }
}

/**
 * Where a task's work is delivered: a remote of the task's repository (by name), or a repository
 * on this machine (by path; the task's own repository when it has no origin).
 */
export interface DeliveryTarget {
  /** what git push/fetch get: a remote name of the task's repository, or an absolute repository path */
  destination: string
  /** the target repository's path when it is on this machine (its branches are moved in place, see advanceLocalBranch) */
  localPath: string | null
  /** the target is the task's own repository: its branches are already there */
  sameRepo: boolean
  /** the target branch (merge into, PR base) */
  branch: string
  /** for messages: "origin (<url>)" or the path */
  label: string
}

/** A remote URL that names a directory on this machine (a path or file://), as an absolute path; else undefined. */
export function localPathOfUrl(url: string, relativeTo: string): string | undefined {
  let p: string | undefined
  if (url.startsWith('file://')) p = decodeURIComponent(url.slice('file://'.length))
  else if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^[^/]+@[^/:]+:/.test(url) && !/^[^/:]+:/.test(url)) p = path.resolve(relativeTo, expandHome(url))
  return p && existsSync(p) && statSync(p).isDirectory() ? p : undefined
}
