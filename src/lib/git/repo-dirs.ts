import {existsSync, realpathSync, statSync} from 'node:fs'
import path from 'node:path'

import {expandHome} from '../os/home-path.js'
import {MakimaError} from '../errors.js'
import {git, gitText} from './git-runner.js'

/**
 * Which repository a directory is in and where that repository keeps its files: the checks of a
 * repository path given from outside (--repo, --target-repo) and the git directories other
 * modules (temporary indexes, info/exclude, the sandbox) need.
 */

/** Where a repository keeps its files, as absolute paths. */
export interface GitDirs {
  /** the git directory of this worktree (`.git`, or `.git/worktrees/<name>` for a linked worktree) */
  gitDir: string
  /** the directory all worktrees of the repository share (objects, refs, config, info/exclude) */
  commonDir: string
}

/** The git directories of `dir` (in one git command), or undefined when `dir` is in no git repository. */
export async function gitDirs(dir: string): Promise<GitDirs | undefined> {
  const r = await git(['rev-parse', '--path-format=absolute', '--git-dir', '--git-common-dir'], {cwd: dir, allowFailure: true})
  const [gitDir, commonDir] = r.stdout.split('\n').map((line) => line.trim())
  return r.exitCode === 0 && gitDir && commonDir ? {gitDir, commonDir} : undefined
}

/** The path of a file in the worktree's git directory (`git rev-parse --git-path`), absolute. */
export async function gitPath(worktree: string, name: string): Promise<string> {
  return (await git(['rev-parse', '--path-format=absolute', '--git-path', name], {cwd: worktree})).stdout.trim()
}

/** The top level of the work tree `dir` is in, or undefined (no repository, or inside a .git directory). */
async function topLevel(dir: string): Promise<string | undefined> {
  const r = await git(['rev-parse', '--show-toplevel'], {cwd: dir, allowFailure: true})
  return r.exitCode === 0 && r.stdout.trim() ? r.stdout.trim() : undefined
}

/** A local path that must exist and be inside a git work tree; returns the work tree's top level. */
export async function resolveLocalRepo(repoPath: string): Promise<string> {
  const abs = path.resolve(repoPath)
  if (!existsSync(abs)) throw new MakimaError('INVALID_INPUT', `repository path ${abs} does not exist`)
  if (!statSync(abs).isDirectory()) throw new MakimaError('INVALID_INPUT', `repository path ${abs} is not a directory`)
  const top = await topLevel(abs)
  if (!top) throw new MakimaError('INVALID_INPUT', `${abs} is not a git repository`)
  return top
}

/** A `--target-repo` path: must exist and be a git repository (bare or not). Returns its top level (or the bare git dir). */
export async function resolveTargetRepo(raw: string): Promise<string> {
  if (typeof raw !== 'string' || raw.trim().length === 0) throw new MakimaError('INVALID_INPUT', 'target repository path is empty')
  const abs = path.resolve(expandHome(raw))
  if (!existsSync(abs)) throw new MakimaError('INVALID_INPUT', `target repository ${abs} does not exist`)
  if (!statSync(abs).isDirectory()) throw new MakimaError('INVALID_INPUT', `target repository ${abs} is not a directory`)
  const bare = await git(['rev-parse', '--is-bare-repository'], {cwd: abs, allowFailure: true})
  if (bare.exitCode !== 0) throw new MakimaError('INVALID_INPUT', `target repository ${abs} is not a git repository`)
  if (bare.stdout.trim() === 'true') return gitText(['rev-parse', '--absolute-git-dir'], {cwd: abs})
  const top = await topLevel(abs)
  if (!top) throw new MakimaError('INVALID_INPUT', `target repository ${abs} is not a git repository (only inside one's .git directory)`)
  return top
}

/** Do two paths belong to the same repository (same common git directory; worktrees of one repository do)? */
export async function sameRepository(a: string, b: string): Promise<boolean> {
  const common = async (dir: string) => {
    const dirs = await gitDirs(dir)
    return dirs && realpathSync(dirs.commonDir)
  }
  const [x, y] = await Promise.all([common(a), common(b)])
  return x !== undefined && x === y
}
