import {appendFileSync, existsSync, mkdirSync, readFileSync} from 'node:fs'
import path from 'node:path'

import {MakimaError} from '../errors.js'
import {git} from './git-runner.js'
import {gitDirs} from './repo-dirs.js'

/**
 * The files of a checkout that are not tracked (untracked or ignored) and match the patterns of
 * `patternFile` (gitignore syntax, patterns relative to the top level: `.worktreeinclude`), as
 * paths relative to `checkout`. git lists them itself, so a pattern never reaches outside the
 * work tree and nested repositories are not entered.
 */
export async function untrackedFilesMatching(checkout: string, patternFile: string): Promise<string[]> {
  const r = await git(['ls-files', '-z', '--others', '--ignored', `--exclude-from=${patternFile}`], {cwd: checkout})
  return r.stdout.split('\0').filter((p) => p.length > 0)
}

/** Is `relative` a tracked path (a file, or a directory holding tracked files) of the checkout? */
export async function isTrackedPath(checkout: string, relative: string): Promise<boolean> {
  const r = await git(['ls-files', '-z', '--', relative], {cwd: checkout, allowFailure: true})
  return r.exitCode === 0 && r.stdout.length > 0
}

/**
 * Keep paths out of status, diffs and snapshots of every worktree of the repository: each
 * `/<path>` is added (once) to the repository's info/exclude (a symlinked shared directory is a
 * file to git, which a `dir/` pattern of .gitignore does not match).
 */
export async function excludeInRepository(worktreePath: string, relativePaths: string[]): Promise<void> {
  if (relativePaths.length === 0) return
  const dirs = await gitDirs(worktreePath)
  if (!dirs) throw new MakimaError('INVALID_INPUT', `${worktreePath} is not in a git repository`)
  const exclude = path.join(dirs.commonDir, 'info', 'exclude')
  mkdirSync(path.dirname(exclude), {recursive: true})
  let current = existsSync(exclude) ? readFileSync(exclude, 'utf8') : ''
  for (const relative of relativePaths) {
    const line = `/${relative.split(path.sep).join('/')}`
    if (current.split('\n').includes(line)) continue
    const text = `${current && !current.endsWith('\n') ? '\n' : ''}${line}\n`
    appendFileSync(exclude, text)
    current += text
  }
}
