import {appendFileSync, existsSync, mkdirSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {MakimaError} from '../errors.js'
import {git, gitText} from './git-runner.js'
import {gitDirAndCommit} from './refs.js'
import {withRepoLock} from './repo-lock.js'

/** A local path that must exist and be inside a git work tree; returns the work tree's top level. */
export async function resolveLocalRepo(repoPath: string): Promise<string> {
  const abs = path.resolve(repoPath)
  if (!existsSync(abs)) throw new MakimaError('INVALID_INPUT', `repository path ${abs} does not exist`)
  if (!statSync(abs).isDirectory()) throw new MakimaError('INVALID_INPUT', `repository path ${abs} is not a directory`)
  const result = await git(['rev-parse', '--show-toplevel'], {cwd: abs, allowFailure: true})
  if (result.exitCode !== 0 || !result.stdout.trim()) throw new MakimaError('INVALID_INPUT', `${abs} is not a git repository`)
  return result.stdout.trim()
}

export interface CreateWorktreeOptions {
  repoPath: string
  /** branch, tag or sha the worktree starts from */
  baseRef: string
  /** the new task branch (already validated) */
  branch: string
  worktreePath: string
  locksDir: string
}

/**
 * Create a task worktree on a new branch at the base commit. Runs under the repository lock so
 * concurrent spawns on one repository never race inside .git. Returns the base commit sha.
 */
export async function createWorktree(options: CreateWorktreeOptions): Promise<{baseSha: string}> {
  return withRepoLock(options.locksDir, options.repoPath, async () => {
    const {dir: commonDir, sha: baseSha} = await gitDirAndCommit(options.repoPath, 'git-common-dir', options.baseRef)
    if (!baseSha) throw new MakimaError('INVALID_INPUT', `base branch "${options.baseRef}" does not exist in ${options.repoPath}`)
    if (existsSync(options.worktreePath)) throw new MakimaError('INVALID_STATE', `worktree path ${options.worktreePath} already exists`)
    mkdirSync(path.dirname(options.worktreePath), {recursive: true})
    await git(['worktree', 'add', '--quiet', '-b', options.branch, '--', options.worktreePath, baseSha], {cwd: options.repoPath})
    excludeMakimaDirIn(commonDir)
    return {baseSha}
  })
}

/** Remove a worktree (its branch stays). Missing worktrees are pruned quietly. */
export async function removeWorktree(repoPath: string, worktreePath: string, locksDir: string): Promise<void> {
  await withRepoLock(locksDir, repoPath, async () => {
    if (existsSync(worktreePath)) await git(['worktree', 'remove', '--force', '--force', '--', worktreePath], {cwd: repoPath})
    await git(['worktree', 'prune'], {cwd: repoPath, allowFailure: true})
  })
}

/** Keep makima's own files (.makima/) out of status, diffs, checkpoints and merges. */
export async function excludeMakimaDir(worktreePath: string): Promise<void> {
  excludeMakimaDirIn(path.resolve(worktreePath, await gitText(['rev-parse', '--git-common-dir'], {cwd: worktreePath})))
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
  const result = await git(['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], {cwd: worktreePath, allowFailure: true})
  return result.exitCode === 0 && result.stdout.trim() ? result.stdout.trim() : undefined
}
