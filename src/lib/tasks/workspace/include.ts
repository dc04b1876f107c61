import {copyFileSync, existsSync, lstatSync, mkdirSync, realpathSync, statSync, symlinkSync} from 'node:fs'
import path from 'node:path'

import {MakimaError} from '../../errors.js'
import {excludeInRepository, isTrackedPath, untrackedFilesMatching} from '../../git/include-files.js'
import {confinedPath} from '../../paths.js'

/** The file at the repository root naming the untracked files each new worktree gets (Claude Code's convention). */
export const WORKTREE_INCLUDE_FILE = '.worktreeinclude'

/**
 * Copy into a new worktree the untracked or ignored files of the source checkout that match its
 * `.worktreeinclude` (gitignore syntax): `.env`, local config. git lists the candidates, so
 * nothing outside the repository is matched; each is confined again (a symbolic link that
 * resolves outside the repository is skipped, never followed), and a path the worktree already
 * has (a tracked file) is never overwritten. Each copy and each skip is a progress line.
 */
export async function copyIncludedFiles(sourceRepo: string, worktreePath: string, progress: (m: string) => void): Promise<string[]> {
  const includeFile = path.join(sourceRepo, WORKTREE_INCLUDE_FILE)
  if (!existsSync(includeFile)) return []
  let patterns: string
  try {
    patterns = confinedPath(sourceRepo, WORKTREE_INCLUDE_FILE, WORKTREE_INCLUDE_FILE)
  } catch (error) {
    progress(`${WORKTREE_INCLUDE_FILE} ignored: ${(error as Error).message}`)
    return []
  }
  if (!statSync(patterns).isFile()) return []
  const copied: string[] = []
  for (const relative of await untrackedFilesMatching(sourceRepo, patterns)) {
    let from: string
    let to: string
    try {
      from = confinedPath(sourceRepo, relative, `${WORKTREE_INCLUDE_FILE} match`)
      to = confinedPath(worktreePath, relative, `${WORKTREE_INCLUDE_FILE} destination`)
    } catch (error) {
      progress(`Skipped ${relative} (${WORKTREE_INCLUDE_FILE}): ${(error as Error).message}`)
      continue
    }
    if (!statSync(from).isFile()) continue
    if (existsSync(to) || isLink(to)) {
      progress(`Skipped ${relative} (${WORKTREE_INCLUDE_FILE}): the worktree already has it`)
      continue
    }
    mkdirSync(path.dirname(to), {recursive: true})
    copyFileSync(from, to)
    copied.push(relative)
    progress(`Copied ${relative} from the source checkout (${WORKTREE_INCLUDE_FILE})`)
  }
  return copied
}

/**
 * worktree.shareDirs: each directory of the source checkout is symlinked into the worktree
 * instead of copied (all tasks and the checkout then share it). It must be a directory inside
 * the repository, not tracked, and not present in the worktree; the link is kept out of git's
 * status (info/exclude), so snapshots never commit it.
 */
export async function linkSharedDirs(sourceRepo: string, worktreePath: string, dirs: string[], progress: (m: string) => void): Promise<void> {
  const linked: string[] = []
  for (const dir of dirs) {
    const from = confinedPath(sourceRepo, dir, 'worktree.shareDirs entry')
    if (!existsSync(from) || !statSync(from).isDirectory()) {
      progress(`Not sharing ${dir} (worktree.shareDirs): ${from} is not a directory in the source checkout`)
      continue
    }
    if (await isTrackedPath(sourceRepo, dir)) throw new MakimaError('INVALID_INPUT', `worktree.shareDirs entry "${dir}" holds tracked files: only untracked directories can be shared`)
    const to = confinedPath(worktreePath, dir, 'worktree.shareDirs entry')
    if (existsSync(to) || isLink(to)) {
      progress(`Not sharing ${dir} (worktree.shareDirs): the worktree already has it`)
      continue
    }
    mkdirSync(path.dirname(to), {recursive: true})
    symlinkSync(from, to, 'dir')
    linked.push(path.relative(realpathSync(worktreePath), to))
    progress(`Shared ${dir} from the source checkout (symlink, worktree.shareDirs)`)
  }
  await excludeInRepository(worktreePath, linked)
}

function isLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink()
  } catch {
    return false
  }
}
