import {appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {MakimaError} from '../errors.js'
import {checkoutConfig} from './checkout-config.js'
import {git} from './git-runner.js'
import {validateBranchName} from './ref-format.js'
import {gitDirAndCommit, resolveCommit} from './refs.js'
import {gitDirs} from './repo-dirs.js'
import {withRepoLock} from '../os/repo-lock.js'
import {takePooledWorktree, type PoolLocation} from './worktree-pool.js'

/** The branch a new worktree has checked out. */
export interface WorktreeBranch {
  /** validated before git sees it (ref-format.ts) */
  name: string
  /**
   * - `new`: made at the start commit; git refuses a name that exists
   * - `reset`: made at the start commit, or moved there when it exists (`-B`)
   * - `reuse`: checked out as it is when it exists, else made at the start commit
   */
  mode: 'new' | 'reset' | 'reuse'
}

export interface EnsureWorktreeOptions {
  repoPath: string
  worktreePath: string
  /** the worktree is made under the repository lock (os/repo-lock.ts) kept in this directory */
  locksDir: string
  /** where the worktree starts: a revision, resolved to a commit first */
  startAt: string
  /** the branch checked out; none: a detached HEAD at the start commit */
  branch?: WorktreeBranch
  /** an existing empty directory is taken (a restore target); any other existing path is refused */
  allowEmptyDir?: boolean
  /** made again where one was: registrations of worktrees whose directory is gone are pruned first */
  recreate?: boolean
  /** the error when `startAt` is not a commit; default INVALID_INPUT naming it */
  missingStart?: () => MakimaError
  /**
   * take a ready worktree of this warm pool when it has one (worktree-pool.ts): a new or reset
   * branch at a path that does not exist yet; otherwise the worktree is checked out as usual
   */
  pool?: PoolLocation
}

/**
 * The one place a worktree is made (a task's, a continue-from, a checkpoint restore, a respawned
 * or migrated task's): under the repository lock, so concurrent spawns on one repository never
 * race inside .git; at a commit resolved first; on a branch checked before git sees it, after
 * `--`; with makima's own files (.makima/) excluded in the repository's info/exclude; checked out
 * with parallel checkout (checkout-config.ts), or taken from the warm pool when `pool` is given
 * and has one. Refuses a path that exists (INVALID_STATE). Returns the commit the new worktree's
 * HEAD is at, and whether it came from the pool.
 */
export async function ensureWorktree(options: EnsureWorktreeOptions): Promise<{headSha: string; pooled: boolean}> {
  const {repoPath, worktreePath, branch} = options
  if (branch) validateBranchName(branch.name)
  return withRepoLock(options.locksDir, repoPath, async () => {
    checkWorktreeTarget(worktreePath, options.allowEmptyDir === true)
    if (options.recreate) await git(['worktree', 'prune'], {cwd: repoPath, allowFailure: true})
    const reused = branch?.mode === 'reuse' ? await resolveCommit(repoPath, `refs/heads/${branch.name}`) : undefined
    const poolBranch = options.pool && branch && branch.mode !== 'reuse' && !existsSync(worktreePath) ? {name: branch.name, mode: branch.mode} : undefined
    // asked beside the commit (one more short git command, waited for at once); not needed when a pooled worktree is taken
    const checkout = poolBranch ? undefined : checkoutConfig(repoPath)
    checkout?.catch(() => undefined)
    const {dir: commonDir, sha} = await gitDirAndCommit(repoPath, 'git-common-dir', reused ?? options.startAt)
    if (!sha) throw options.missingStart?.() ?? new MakimaError('INVALID_INPUT', `"${options.startAt}" is not a commit in ${repoPath}`)
    mkdirSync(path.dirname(worktreePath), {recursive: true})
    if (poolBranch && (await takePooledWorktree(repoPath, worktreePath, sha, poolBranch, options.pool!))) {
      excludeMakimaDirIn(commonDir)
      return {headSha: sha, pooled: true}
    }
    const args = reused ? ['--', worktreePath, branch!.name] : [...(branch ? [branch.mode === 'reset' ? '-B' : '-b', branch.name] : ['--detach']), '--', worktreePath, sha]
    await git([...(await (checkout ?? checkoutConfig(repoPath))), 'worktree', 'add', '--quiet', ...args], {cwd: repoPath})
    excludeMakimaDirIn(commonDir)
    return {headSha: sha, pooled: false}
  })
}

/** Refuse a worktree target that exists (INVALID_STATE), unless it may be an empty directory and is one: nothing is overwritten. */
export function checkWorktreeTarget(targetDir: string, allowEmptyDir: boolean): void {
  if (!existsSync(targetDir)) return
  if (!allowEmptyDir) throw new MakimaError('INVALID_STATE', `worktree path ${targetDir} already exists`)
  if (!statSync(targetDir).isDirectory()) throw new MakimaError('INVALID_STATE', `${targetDir} exists and is not a directory`)
  if (readdirSync(targetDir).length > 0) throw new MakimaError('INVALID_STATE', `${targetDir} exists and is not empty: give a new or empty directory`)
}

/**
 * Remove a worktree (its branch stays), under the repository lock; registrations of missing
 * worktrees are pruned. `quiet`: a worktree git cannot remove is left (cleaning up after a failure).
 */
export async function removeWorktree(repoPath: string, worktreePath: string, locksDir: string, options: {quiet?: boolean} = {}): Promise<void> {
  await withRepoLock(locksDir, repoPath, async () => {
    if (existsSync(worktreePath)) await git(['worktree', 'remove', '--force', '--force', '--', worktreePath], {cwd: repoPath, allowFailure: options.quiet})
    await git(['worktree', 'prune'], {cwd: repoPath, allowFailure: true})
  })
}

/**
 * Move a worktree's HEAD (and its branch) to `commit`: `hard` makes index and files the commit's
 * too; `mixed` resets the index only, so the files stay as they are and their difference shows as
 * uncommitted work.
 */
export async function resetTo(worktree: string, commit: string, mode: 'hard' | 'mixed'): Promise<void> {
  await git(['reset', '--quiet', `--${mode}`, commit], {cwd: worktree})
}

/** Keep makima's own files (.makima/) out of status, diffs, checkpoints and merges. */
export async function excludeMakimaDir(worktreePath: string): Promise<void> {
  const dirs = await gitDirs(worktreePath)
  if (!dirs) throw new MakimaError('INVALID_INPUT', `${worktreePath} is not in a git repository`)
  excludeMakimaDirIn(dirs.commonDir)
}

/** excludeMakimaDir, given the repository's common git directory. */
function excludeMakimaDirIn(commonDir: string): void {
  const exclude = path.join(commonDir, 'info', 'exclude')
  mkdirSync(path.dirname(exclude), {recursive: true})
  const current = existsSync(exclude) ? readFileSync(exclude, 'utf8') : ''
  if (!current.split('\n').includes('/.makima/')) appendFileSync(exclude, `${current && !current.endsWith('\n') ? '\n' : ''}/.makima/\n`)
}

/** Is the directory a healthy worktree: exists, valid git dir, HEAD resolves? */
export async function worktreeHealthy(worktreePath: string | null): Promise<boolean> {
  return (await worktreeHead(worktreePath)) !== undefined
}

/** The commit HEAD of a healthy worktree points at (worktreeHealthy), else undefined. */
export async function worktreeHead(worktreePath: string | null): Promise<string | undefined> {
  if (!worktreePath || !existsSync(worktreePath)) return undefined
  return resolveCommit(worktreePath, 'HEAD')
}
