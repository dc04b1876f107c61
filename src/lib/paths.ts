import {existsSync, lstatSync, realpathSync} from 'node:fs'
import path from 'node:path'

import {expandHome} from './config/load.js'
import {MakimaError} from './errors.js'

/**
 * Resolve a path given from outside (a CLI argument, a protocol field) against `root` and make
 * sure it stays inside after resolving `..` and symlinks (of every existing component). Throws
 * INVALID_INPUT naming the path otherwise. Returns the absolute, resolved path.
 */
export function confinedPath(root: string, relative: string, what = 'path'): string {
  if (typeof relative !== 'string' || relative.length === 0) throw new MakimaError('INVALID_INPUT', `${what} is empty`)
  if (relative.includes('\0')) throw new MakimaError('INVALID_INPUT', `${what} ${JSON.stringify(relative)} contains a NUL byte`)
  if (path.isAbsolute(relative)) throw new MakimaError('INVALID_INPUT', `${what} "${relative}" must be relative to ${root}`)
  const realRoot = realpathSync(root)
  const joined = path.resolve(realRoot, relative)
  const resolved = realpathOfExisting(joined)
  if (resolved !== realRoot && !resolved.startsWith(realRoot + path.sep)) {
    throw new MakimaError('INVALID_INPUT', `${what} "${relative}" points outside ${root}`)
  }
  return resolved
}

/**
 * realpath of the longest existing prefix, with the rest appended (for paths that do not exist
 * yet). A dangling symbolic link on the way is INVALID_INPUT.
 */
export function realpathOfExisting(p: string): string {
  let current = p
  const rest: string[] = []
  while (!existsSync(current)) {
    if (isSymlink(current)) {
      throw new MakimaError('INVALID_INPUT', `path "${current}" is a symbolic link to something that does not exist`)
    }
    const parent = path.dirname(current)
    if (parent === current) break
    rest.unshift(path.basename(current))
    current = parent
  }
  return path.join(realpathSync(current), ...rest)
}

/** A directory given from outside that may start with `~`: absolute and normalised. */
export function userDirectory(p: string): string {
  return path.resolve(expandHome(p))
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink()
  } catch {
    return false
  }
}

/** Is `p` `dir` or inside it (both absolute and resolved)? */
export function isInside(p: string, dir: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep)
}

/** Does a `.git` directory (or file) appear as any component of the path? */
export function hasGitComponent(p: string): boolean {
  return p.split(/[\\/]/).includes('.git')
}
