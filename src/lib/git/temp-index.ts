import {copyFileSync, rmSync, statSync, utimesSync} from 'node:fs'
import path from 'node:path'

import {MakimaError} from '../errors.js'
import {git} from './git-runner.js'
import {gitDirs} from './repo-dirs.js'

/** The environment that points git at a temporary index. */
export type TempIndexEnv = {GIT_INDEX_FILE: string}

/**
 * Run `fn` with a temporary index that holds the worktree as it is (tracked changes, staged or
 * not, and untracked files; ignored files excluded): what a patch, a snapshot tree or a clone of
 * the worktree is made from. The worktree's own index, HEAD and branch never move. `gitDir`: the
 * worktree's git directory (absolute) when the caller knows it already; the temporary index is
 * made there and removed after.
 *
 * The temporary index starts as a copy of the worktree's own: its stat data lets `git add` hash
 * only the files that changed (a fresh `read-tree` index has none: git read and hashed every file,
 * seconds for a 20k-file tree; the continue-from bench figure). The copy keeps the index's mtime:
 * git reads again a file changed in the same second as the index was written ("racily clean"),
 * which a newer mtime would hide, and a same-size edit would be missed
 * (test/unit/git-snapshot.test.ts). Without an index of its own, the temporary one starts from HEAD.
 */
export async function withTempIndex<T>(worktree: string, fn: (env: TempIndexEnv) => Promise<T>, gitDir?: string): Promise<T> {
  gitDir ??= (await gitDirs(worktree))?.gitDir
  if (!gitDir) throw new MakimaError('INVALID_INPUT', `${worktree} is not in a git repository`)
  const indexFile = path.join(gitDir, `makima-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}.index`)
  const env = {GIT_INDEX_FILE: indexFile}
  try {
    try {
      const ownIndex = path.join(gitDir, 'index')
      const {atimeMs, mtimeMs} = statSync(ownIndex)
      copyFileSync(ownIndex, indexFile)
      utimesSync(indexFile, atimeMs / 1000, Math.floor(mtimeMs) / 1000)
    } catch {
      await git(['read-tree', 'HEAD'], {cwd: worktree, env})
    }
    await git(['add', '--all', '--', '.'], {cwd: worktree, env})
    return await fn(env)
  } finally {
    rmSync(indexFile, {force: true})
  }
}
