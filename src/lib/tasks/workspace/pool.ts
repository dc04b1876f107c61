import {spawn} from 'node:child_process'
import {closeSync, mkdirSync, openSync} from 'node:fs'
import {setPriority} from 'node:os'
import path from 'node:path'

import type {Config} from '../../config/types.js'
import {fillPooledWorktree, pooledRepositories, poolSize, prunePool, type PoolLocation} from '../../git/worktree-pool.js'
import {LockBusyError, withRepoLock} from '../../os/repo-lock.js'
import type {MakimaEntry} from '../roles/orchestrate-script.js'

/**
 * The warm pool as makima's tasks use it (worktree.warmPool; the mechanics are git/worktree-pool.ts):
 * where it lives, when it is refilled and by whom. A spawn takes a pooled worktree when there is
 * one (tasks/workspace/setup.ts); when a repository task's run ends, the pool of that repository
 * is topped up again in the background (TaskManager.run): by the daemon itself, and for the CLI
 * by a detached `makima task pool-fill` at the lowest CPU priority, so the command's exit is not
 * held up.
 */

/** Where the pools live (<worktree.baseDir>/.pool) and the repository locks. */
export function poolLocation(config: Config): PoolLocation {
  return {root: path.join(config.worktree.baseDir, '.pool'), locksDir: path.join(config.home, 'locks')}
}

/** The pool a spawn may take from: worktree.warmPool > 0. */
export function spawnPool(config: Config): PoolLocation | undefined {
  return config.worktree.warmPool > 0 ? poolLocation(config) : undefined
}

export interface RefillOptions {
  /** git at nice 19 (the daemon's refill beside its running tasks) */
  lowPriority?: boolean
  /** false when one more pooled worktree would pass history.maxWorktreeBytes (disk-policy.ts) */
  withinBudget?: () => boolean
}

/**
 * Top the repository's pool up to worktree.warmPool worktrees at `base` (its head when each is
 * made); broken pooled worktrees are removed first. One refill a repository at a time, across
 * processes: when another holds the pool's lock this returns 0 at once (that one fills it).
 * Returns how many worktrees were made.
 */
export async function refillPool(config: Config, repoPath: string, base: string, options: RefillOptions = {}): Promise<number> {
  const target = config.worktree.warmPool
  if (!(target > 0)) return 0
  const pool = poolLocation(config)
  try {
    return await withRepoLock(
      pool.locksDir,
      `${path.resolve(repoPath)}#warm-pool`,
      async () => {
        await prunePool(repoPath, pool)
        let made = 0
        while (poolSize(pool.root, repoPath) < target && (options.withinBudget?.() ?? true)) {
          await fillPooledWorktree(repoPath, base, pool, {lowPriority: options.lowPriority})
          made++
        }
        return made
      },
      0,
    )
  } catch (error) {
    if (error instanceof LockBusyError) return 0
    throw error
  }
}

/**
 * Start `makima task pool-fill --repo <repo> --base <base>` detached at nice 19 (CLI tasks): it
 * outlives the command; its output goes to <home>/logs/pool-fill.log.
 */
export function startDetachedRefill(entry: MakimaEntry, home: string, repoPath: string, base: string, env: Record<string, string>): void {
  const logs = path.join(home, 'logs')
  mkdirSync(logs, {recursive: true, mode: 0o700})
  const fd = openSync(path.join(logs, 'pool-fill.log'), 'a', 0o600)
  try {
    const child = spawn(entry.execPath, [entry.script, 'task', 'pool-fill', '--repo', repoPath, '--base', base], {detached: true, stdio: ['ignore', fd, fd], env, cwd: home})
    child.on('error', () => {}) // a refill that cannot start only leaves the pool empty
    if (child.pid) {
      try {
        setPriority(child.pid, 19)
      } catch {
        // gone already, or not permitted
      }
    }
    child.unref()
  } finally {
    closeSync(fd)
  }
}

/**
 * `task prune`: the pooled worktrees of every repository that are broken (not ready, their maker
 * gone), or with `all` (--pool) every one not being made right now. `dryRun`: only listed.
 */
export async function prunePools(config: Config, options: {all?: boolean; dryRun?: boolean}): Promise<{repoPath: string; dir: string}[]> {
  const pool = poolLocation(config)
  const removed: {repoPath: string; dir: string}[] = []
  for (const {repoPath} of pooledRepositories(pool.root)) {
    for (const dir of await prunePool(repoPath, pool, options)) removed.push({repoPath, dir})
  }
  return removed
}
