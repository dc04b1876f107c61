import {mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {createHash} from 'node:crypto'
import path from 'node:path'

import {MakimaError} from '../errors.js'
import {isPidAlive} from './process-table.js'

const chains = new Map<string, Promise<unknown>>()

/**
 * Serialise work on one repository: in this process through a promise chain, across processes
 * through a lock directory (mkdir is atomic) holding the owner's pid; a lock whose owner died is
 * taken over. Worktree add/remove, clone and fetch run under it.
 */
export async function withRepoLock<T>(locksDir: string, repoPath: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  const key = path.resolve(repoPath)
  const previous = chains.get(key) ?? Promise.resolve()
  const run = previous
    .catch(() => undefined)
    .then(async () => {
      const lockDir = path.join(locksDir, `${createHash('sha1').update(key).digest('hex').slice(0, 16)}.lock`)
      await acquire(lockDir, key, timeoutMs)
      try {
        return await fn()
      } finally {
        rmSync(lockDir, {recursive: true, force: true})
      }
    })
  chains.set(key, run)
  try {
    return await run
  } finally {
    if (chains.get(key) === run) chains.delete(key)
  }
}

/** A lock another process holds past the timeout (withRepoLock). */
export class LockBusyError extends MakimaError {
  constructor(key: string, owner: number) {
    super('FAILED', `timed out waiting for the lock on ${key} (held by pid ${owner})`)
  }
}

async function acquire(lockDir: string, key: string, timeoutMs: number): Promise<void> {
  mkdirSync(path.dirname(lockDir), {recursive: true, mode: 0o700})
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      mkdirSync(lockDir)
      writeFileSync(path.join(lockDir, 'owner'), String(process.pid))
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    let owner = Number.NaN
    try {
      owner = Number(readFileSync(path.join(lockDir, 'owner'), 'utf8'))
    } catch {
      // the owner is between mkdir and writing its pid; wait
    }
    if (Number.isInteger(owner) && owner > 0 && !isPidAlive(owner)) rmSync(lockDir, {recursive: true, force: true})
    else if (Date.now() >= deadline) throw new LockBusyError(key, owner)
    else await new Promise((resolve) => setTimeout(resolve, 25 + Math.random() * 50))
  }
}
