// SQLite's and the file system's reasons a database cannot be used ("unable to open database
// file", "file is not a database"), and a better-sqlite3 built for another Node.js, turned into
// messages that name the file, the cause and the fix.
import {accessSync, constants, statSync} from 'node:fs'
import path from 'node:path'

import {MakimaError} from '../errors.js'
import {packageRoot} from '../package-root.js'

/** What is wrong with a database that cannot be used, for `makima doctor`. */
export type DatabaseProblem = 'damaged' | 'unwritable' | 'path' | 'native'

const DAMAGED = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB'])
const UNWRITABLE = new Set(['SQLITE_CANTOPEN', 'SQLITE_READONLY', 'SQLITE_PERM', 'SQLITE_AUTH', 'EACCES', 'EPERM', 'EROFS'])

function baseCode(error: unknown): string {
  const code = (error as {code?: unknown} | null)?.code
  // Extended result codes: SQLITE_CORRUPT_INDEX, SQLITE_READONLY_DIRECTORY, SQLITE_CANTOPEN_ISDIR, ...
  return typeof code === 'string' ? code.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1') : ''
}

/** The problem a database error (or a MakimaError made by databaseError) stands for, if it is one. */
export function databaseProblem(error: unknown): DatabaseProblem | undefined {
  if (error instanceof MakimaError) return error.details?.databaseProblem as DatabaseProblem | undefined
  const code = baseCode(error)
  if (nativeModuleFailure(error)) return 'native'
  if (DAMAGED.has(code)) return 'damaged'
  if (code === 'ENOTDIR' || code === 'EEXIST' || code === 'EISDIR') return 'path'
  if (UNWRITABLE.has(code)) return 'unwritable'
  return undefined
}

/** An error met while opening or using the database `file`, as a MakimaError that says what to do. */
export function databaseError(file: string, error: unknown): MakimaError {
  if (error instanceof MakimaError) return error
  const problem = databaseProblem(error)
  const reason = error instanceof Error ? error.message : String(error)
  const options = {cause: error, details: {databaseProblem: problem, file}}
  const elsewhere = 'or set MAKIMA_HOME (or localDb.path) to a directory you can write'
  if ((problem === 'path' || problem === 'unwritable') && isDirectory(file)) {
    return new MakimaError('INVALID_INPUT', `cannot open the database ${file}: it is a directory; set localDb.path to a file`, options)
  }
  switch (problem) {
    case 'native':
      return new MakimaError('FAILED', nativeModuleMessage(error), options)
    case 'damaged':
      return new MakimaError(
        'FAILED',
        `the database ${file} is damaged (${reason}): run \`makima doctor --repair\` to move it aside and start a fresh one (the task history stays in the copy)`,
        options,
      )
    case 'path':
      return new MakimaError('INVALID_INPUT', `cannot open the database ${file}: ${notADirectory(file)} (${reason}); set MAKIMA_HOME (or localDb.path) to a directory`, options)
    case 'unwritable': {
      const {what, target} = unwritablePart(file)
      return new MakimaError('FAILED', `cannot open the database ${file}: ${what} (${reason}); make it writable (chmod u+w ${target}) ${elsewhere}`, options)
    }
    default:
      return new MakimaError('FAILED', `cannot use the database ${file}: ${reason}`, options)
  }
}

/**
 * better-sqlite3's addon could not be loaded: built for another Node.js (NODE_MODULE_VERSION
 * mismatch, e.g. after switching Node with nvm), or never built (an install with scripts off).
 */
function nativeModuleFailure(error: unknown): boolean {
  const code = (error as {code?: unknown} | null)?.code
  const message = error instanceof Error ? error.message : ''
  return code === 'ERR_DLOPEN_FAILED' || /NODE_MODULE_VERSION|Could not locate the bindings file|better_sqlite3\.node/.test(message)
}

/** The command that rebuilds better-sqlite3 for the Node.js this process runs on. */
export function rebuildCommand(): string {
  return `cd ${packageRoot()} && npm rebuild better-sqlite3`
}

/** What went wrong with the addon, and what to run. */
export function nativeModuleMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error)
  const versions = /NODE_MODULE_VERSION (\d+)\.[\s\S]*?requires\s+NODE_MODULE_VERSION (\d+)/.exec(message)
  const why = versions
    ? `better-sqlite3 was built for another Node.js (NODE_MODULE_VERSION ${versions[1]}; Node ${process.version} requires ${versions[2]})`
    : `better-sqlite3's native module cannot be loaded (${message.split('\n')[0]})`
  return `${why}: run \`${rebuildCommand()}\` (makima's folder), with the Node.js that runs makima (${process.execPath})`
}

/** What this process cannot write: the directory (or the one it would be created in), or a file. */
function unwritablePart(file: string): {what: string; target: string} {
  const dir = path.dirname(file)
  if (!exists(dir)) {
    let parent = path.dirname(dir)
    while (!exists(parent) && parent !== path.dirname(parent)) parent = path.dirname(parent)
    return {what: `${dir} cannot be created, ${parent} is not writable`, target: parent}
  }
  if (!writable(dir)) return {what: `its directory ${dir} is not writable`, target: dir}
  for (const f of [file, `${file}-wal`, `${file}-shm`]) if (exists(f) && !writable(f)) return {what: `the file ${f} is not writable`, target: f}
  return {what: `its directory ${dir} is not writable`, target: dir}
}

function notADirectory(file: string): string {
  for (let dir = path.dirname(file); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (exists(dir) && !isDirectory(dir)) return `${dir} is a file, not a directory`
  }
  return 'a part of its path is not a directory'
}

function writable(p: string): boolean {
  try {
    accessSync(p, constants.W_OK)
    return true
  } catch {
    return false
  }
}

function exists(p: string): boolean {
  try {
    statSync(p)
    return true
  } catch {
    return false
  }
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory()
  } catch {
    return false
  }
}
