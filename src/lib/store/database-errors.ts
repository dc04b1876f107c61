// SQLite's and the file system's reasons a database cannot be used ("unable to open database
// file", "file is not a database"), turned into messages that name the file, the cause and the fix.
import {accessSync, constants, statSync} from 'node:fs'
import path from 'node:path'

import {MakimaError} from '../errors.js'

/** What is wrong with a database that cannot be used, for `makima doctor`. */
export type DatabaseProblem = 'damaged' | 'unwritable' | 'path'

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
