import {git} from './git-runner.js'

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
