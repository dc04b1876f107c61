import {existsSync, realpathSync, statSync} from 'node:fs'
import path from 'node:path'

import {expandHome} from '../config/load.js'
import {MakimaError} from '../errors.js'
import {git, gitText} from './git-runner.js'

/**
 * Remotes and delivery of work (docs/cli.md "Completion actions"): where a task's work goes,
 * committing what is left in a worktree, pushing a branch, reading a branch tip of another
 * repository, and moving a branch of a local repository without ever leaving it half-merged.
 * Branch names reaching these functions are validated by the caller (refs.ts); every refspec
 * is fully qualified (`refs/heads/...`) and every destination is a remote name or an absolute
 * path, so nothing here can be read by git as an option.
 */

/** A push or fetch that has not finished after this long is given up (an unreachable host, a hung ssh). */
const NETWORK_TIMEOUT_MS = 5 * 60_000

/** A `--target-repo` path: must exist and be a git repository (bare or not). Returns its top level (or the bare git dir). */
export async function resolveTargetRepo(raw: string): Promise<string> {
  if (typeof raw !== 'string' || raw.trim().length === 0) throw new MakimaError('INVALID_INPUT', 'target repository path is empty')
  const abs = path.resolve(expandHome(raw))
  if (!existsSync(abs)) throw new MakimaError('INVALID_INPUT', `target repository ${abs} does not exist`)
  if (!statSync(abs).isDirectory()) throw new MakimaError('INVALID_INPUT', `target repository ${abs} is not a directory`)
  const bare = await git(['rev-parse', '--is-bare-repository'], {cwd: abs, allowFailure: true})
  if (bare.exitCode !== 0) throw new MakimaError('INVALID_INPUT', `target repository ${abs} is not a git repository`)
  if (bare.stdout.trim() === 'true') return gitText(['rev-parse', '--absolute-git-dir'], {cwd: abs})
  const top = await git(['rev-parse', '--show-toplevel'], {cwd: abs, allowFailure: true})
  if (top.exitCode !== 0 || !top.stdout.trim()) throw new MakimaError('INVALID_INPUT', `target repository ${abs} is not a git repository (only inside one's .git directory)`)
  return top.stdout.trim()
}

/** The URL of a remote of `repo`, or undefined when it has no such remote. */
export async function remoteUrl(repo: string, name: string): Promise<string | undefined> {
  const result = await git(['remote', 'get-url', '--', name], {cwd: repo, allowFailure: true})
  const url = result.stdout.trim()
  return result.exitCode === 0 && url ? url : undefined
}

/** Do two paths belong to the same repository (same common git directory; worktrees of one repository do)? */
export async function sameRepository(a: string, b: string): Promise<boolean> {
  const common = async (dir: string) => {
    const r = await git(['rev-parse', '--path-format=absolute', '--git-common-dir'], {cwd: dir, allowFailure: true})
    return r.exitCode === 0 ? realpathSync(r.stdout.trim()) : undefined
  }
  const [x, y] = await Promise.all([common(a), common(b)])
  return x !== undefined && x === y
}

/**
 * `-c` options that give a commit made by makima an identity when `dir` has none (user.name and
 * user.email unset everywhere); empty when git already knows who commits. Nothing is written.
 */
export async function identityOptions(dir: string): Promise<string[]> {
  const ident = await git(['var', 'GIT_COMMITTER_IDENT'], {cwd: dir, allowFailure: true})
  if (ident.exitCode === 0) return []
  return ['-c', 'user.name=makima', '-c', 'user.email=makima@localhost']
}

/** The branch checked out in a worktree (short name), or undefined when HEAD is detached. */
export async function checkedOutBranch(worktree: string): Promise<string | undefined> {
  const r = await git(['symbolic-ref', '--quiet', 'HEAD'], {cwd: worktree, allowFailure: true})
  const ref = r.stdout.trim()
  return r.exitCode === 0 && ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined
}

/**
 * Commit everything uncommitted in a worktree (tracked changes and untracked files; ignored files
 * excluded) on its current branch. Returns the new commit's sha, or undefined when there was
 * nothing to commit. Hooks are skipped (`--no-verify`): this is makima saving the task's work,
 * and a hook that fails must not lose it.
 */
export async function commitAll(worktree: string, message: string): Promise<string | undefined> {
  await git(['add', '--all', '--', '.'], {cwd: worktree})
  const staged = await git(['diff', '--cached', '--quiet'], {cwd: worktree, allowFailure: true})
  if (staged.exitCode === 0) return undefined
  const identity = await identityOptions(worktree)
  await git([...identity, 'commit', '--quiet', '--no-verify', '--no-gpg-sign', '-m', message], {cwd: worktree})
  return gitText(['rev-parse', 'HEAD'], {cwd: worktree})
}

/** The sha of refs/heads/<branch> in `repo`, or undefined. */
export async function localBranchTip(repo: string, branch: string): Promise<string | undefined> {
  const r = await git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`], {cwd: repo, allowFailure: true})
  return r.exitCode === 0 ? r.stdout.trim() : undefined
}

/** Is `commit` an ancestor of (or equal to) `of`? */
export async function isAncestorOf(repo: string, commit: string, of: string): Promise<boolean> {
  const r = await git(['merge-base', '--is-ancestor', commit, of], {cwd: repo, allowFailure: true})
  if (r.exitCode > 1) throw new MakimaError('FAILED', `git merge-base failed: ${r.stderr.trim()}`)
  return r.exitCode === 0
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
    if (/couldn't find remote ref/i.test(r.stderr)) return undefined
    throw new MakimaError('FAILED', `cannot fetch ${branch} from ${source}: ${gitMessage(r.stderr)}`)
  }
  return gitText(['rev-parse', '--verify', `${intoRef}^{commit}`], {cwd: repo})
}

/** Delete a private ref quietly. */
export async function deleteRef(repo: string, ref: string): Promise<void> {
  await git(['update-ref', '-d', ref], {cwd: repo, allowFailure: true})
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

/** The worktrees of `repo` that have refs/heads/<branch> checked out. */
export async function worktreesOnBranch(repo: string, branch: string): Promise<string[]> {
  const out = await gitText(['worktree', 'list', '--porcelain'], {cwd: repo})
  const found: string[] = []
  for (const entry of out.split('\n\n')) {
    const lines = entry.split('\n')
    const wt = lines.find((l) => l.startsWith('worktree '))?.slice('worktree '.length)
    if (wt && lines.includes(`branch refs/heads/${branch}`)) found.push(wt)
  }
  return found
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
    const r = await git(['update-ref', '-m', reason, `refs/heads/${branch}`, newSha, oldSha], {cwd: repo, allowFailure: true})
    if (r.exitCode !== 0) throw new MakimaError('FAILED', `branch ${branch} of ${repo} moved while makima was updating it: retry (${gitMessage(r.stderr)})`)
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

/** git's own explanation from its stderr: the `fatal:`/`error:` lines, else the first line. */
export function gitMessage(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean)
  const errors = lines.filter((l) => /^(fatal|error):/.test(l)).map((l) => l.replace(/^(fatal|error):\s*/, ''))
  return (errors.length > 0 ? errors.slice(0, 3).join('; ') : lines[0]) ?? 'unknown error'
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
