// The database file on disk: created private (plans, output and tool results are in it), and
// moved aside whole (with its write-ahead log) when it is damaged beyond use.
import {chmodSync, closeSync, existsSync, mkdirSync, openSync, renameSync, statSync} from 'node:fs'
import path from 'node:path'

const FILE_MODE = 0o600
const DIR_MODE = 0o700

/** SQLite's files beside the database: the write-ahead log and its shared-memory index. */
export const SIDE_FILES = ['-wal', '-shm'] as const

/**
 * Make sure the database's directory exists (0700 when created here) and the file exists with
 * mode 0600. SQLite creates the -wal and -shm files with the database file's mode, so they are
 * 0600 too; an existing database (or side file) that others could read is made 0600.
 */
export function prepareDatabaseFile(file: string): void {
  mkdirSync(path.dirname(file), {recursive: true, mode: DIR_MODE})
  // 'a': created when missing, never truncated (another process may be creating it too).
  closeSync(openSync(file, 'a', FILE_MODE))
  for (const f of [file, ...SIDE_FILES.map((s) => file + s)]) tighten(f)
}

function tighten(file: string): void {
  try {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, FILE_MODE)
  } catch {
    // missing (a side file), or not ours to change: nothing to do
  }
}

/**
 * Move a damaged database (and its -wal/-shm, which belong to it) aside to
 * `<file>.corrupt-<timestamp>`, where SQLite tools can still open it; returns that path.
 */
export function moveDatabaseAside(file: string, now = new Date()): string {
  const copy = `${file}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`
  for (const suffix of SIDE_FILES) if (existsSync(file + suffix)) renameSync(file + suffix, copy + suffix)
  renameSync(file, copy)
  return copy
}
