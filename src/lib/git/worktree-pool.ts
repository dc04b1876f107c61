import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {MakimaError} from '../errors.js'
import {isPidAlive} from '../os/process-table.js'
import {withRepoLock} from '../os/repo-lock.js'
import {checkoutConfig} from './checkout-config.js'
import {git} from './git-runner.js'
import {gitDirAndCommit} from './refs.js'
import {gitPath} from './repo-dirs.js'

/**
 * The warm pool (worktree.warmPool, issue 22): worktrees of a repository checked out ahead of
 * time, so that a spawn takes one (worktrees.ts ensureWorktree) instead of checking out the whole
 * tree. Layout, under `root` (<worktree.baseDir>/.pool):
 *
 *   <key>/repo            the repository's path (key: 16 hex of the sha1 of its real path)
 *   <key>/<name>/         a pooled worktree, detached at the commit it was made at
 *   <key>/<name>.filling  the pid of the process making it
 *   <key>/<name>.ready    {head, createdAt}: written last, once its files and index are complete
 *
 * A worktree without `.ready` whose maker is gone is broken and removed by the next fill, take or
 * `task prune --pool`; one that is dirty or not at its recorded commit is removed when a take
 * finds it so: neither is ever handed out.
 */
export interface PoolLocation {
  /** the directory of all pools: <worktree.baseDir>/.pool */
  root: string
  /** the repository lock's directory (os/repo-lock.ts) */
  locksDir: string
}

export interface PooledWorktree {
  dir: string
  /** the commit it is detached at */
  head: string
  createdAt: string
}

/** The pool directory of one repository. */
export function repoPoolDir(root: string, repoPath: string): string {
  let real = path.resolve(repoPath)
  try {
    real = realpathSync(real)
  } catch {
    // a repository that is gone keeps the key of its path
  }
  return path.join(root, createHash('sha1').update(real).digest('hex').slice(0, 16))
}

/** The ready worktrees of a repository's pool, oldest first. */
export function readyWorktrees(root: string, repoPath: string): PooledWorktree[] {
  const dir = repoPoolDir(root, repoPath)
  const ready: PooledWorktree[] = []
  for (const name of names(dir)) {
    try {
      const marker = JSON.parse(readFileSync(path.join(dir, `${name}.ready`), 'utf8')) as {head?: unknown; createdAt?: unknown}
      if (typeof marker.head === 'string' && /^[0-9a-f]{40,64}$/.test(marker.head)) ready.push({dir: path.join(dir, name), head: marker.head, createdAt: String(marker.createdAt ?? '')})
    } catch {
      // not ready (being made, or broken)
    }
  }
  return ready.sort((a, b) => a.createdAt.localeCompare(b.createdAt))
}

/** How many worktrees the pool has or is making (ready or being filled by a live process). */
export function poolSize(root: string, repoPath: string): number {
  const dir = repoPoolDir(root, repoPath)
  return names(dir).filter((name) => existsSync(path.join(dir, `${name}.ready`)) || fillerAlive(path.join(dir, name))).length
}

/** The entry names of a pool directory: its worktrees and their markers. */
function names(dir: string): string[] {
  let files: string[]
  try {
    files = readdirSync(dir)
  } catch {
    return []
  }
  return [...new Set(files.filter((f) => f !== 'repo').map((f) => f.replace(/\.(ready|ready\.tmp|filling|taken)$/, '')))].sort()
}

function fillerAlive(entry: string): boolean {
  try {
    const pid = Number(readFileSync(`${entry}.filling`, 'utf8'))
    return Number.isInteger(pid) && pid > 0 && isPidAlive(pid)
  } catch {
    return false
  }
}

/**
 * Make one pooled worktree of `repoPath`, detached at `startAt` (resolved now). Only registering
 * it (`worktree add --no-checkout`) runs under the repository lock; the checkout writes only its
 * own files and index and runs outside, so a spawn is never held up behind a refill. Once a second
 * has passed since the checkout, the index is written again with its stat data checked, so git
 * never re-reads the files as "racily clean" (same second as the index): a fresh checkout costs
 * every later `git status` in it a read of every file until then (~0.12 s of CPU at 20,000 files).
 * `lowPriority`: the git processes run at nice 19 (a refill beside running tasks).
 */
export async function fillPooledWorktree(repoPath: string, startAt: string, pool: PoolLocation, options: {lowPriority?: boolean} = {}): Promise<PooledWorktree> {
  const dir = repoPoolDir(pool.root, repoPath)
  mkdirSync(dir, {recursive: true, mode: 0o700})
  writeFileSync(path.join(dir, 'repo'), path.resolve(repoPath))
  const entry = path.join(dir, `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`)
  writeFileSync(`${entry}.filling`, String(process.pid))
  const lowPriority = options.lowPriority === true
  try {
    const head = await withRepoLock(pool.locksDir, repoPath, async () => {
      const {sha} = await gitDirAndCommit(repoPath, 'git-common-dir', startAt)
      if (!sha) throw new MakimaError('INVALID_INPUT', `"${startAt}" is not a commit in ${repoPath}`)
      await git(['worktree', 'add', '--quiet', '--no-checkout', '--detach', '--', entry, sha], {cwd: repoPath})
      return sha
    })
    await git([...(await checkoutConfig(repoPath)), 'reset', '--hard', '--quiet', '--no-recurse-submodules'], {cwd: entry, lowPriority})
    await writeIndexWhenOlder(entry, lowPriority)
    const createdAt = new Date().toISOString()
    writeFileSync(`${entry}.ready.tmp`, JSON.stringify({head, createdAt}))
    renameSync(`${entry}.ready.tmp`, `${entry}.ready`)
    return {dir: entry, head, createdAt}
  } catch (error) {
    await removePooledWorktree(repoPath, entry, pool).catch(() => undefined)
    throw error
  } finally {
    rmSync(`${entry}.filling`, {force: true})
  }
}

/** Write the worktree's index again once its files are older than it (see fillPooledWorktree). */
async function writeIndexWhenOlder(worktree: string, lowPriority: boolean): Promise<void> {
  const index = await gitPath(worktree, 'index')
  const wait = (Math.floor(statSync(index).mtimeMs / 1000) + 1) * 1000 + 20 - Date.now()
  if (wait > 0) await sleep(wait)
  // `status` writes the index when it holds racily clean entries (`update-index --refresh` does not)
  await git(['status', '--porcelain', '--untracked-files=no'], {cwd: worktree, env: {GIT_OPTIONAL_LOCKS: '1'}, lowPriority})
}

/**
 * Take a ready worktree of the repository's pool for a task: check it is clean (no change,
 * untracked or ignored file) and at its recorded commit, move it to `worktreePath` (`git worktree
 * move`: a rename), then check out `branch` at `sha` there, which touches only the files that
 * differ. A pooled worktree found dirty or broken is removed and the next one tried. Returns false
 * when none could be taken (the caller checks out as usual). Runs under the repository lock, which
 * the caller (ensureWorktree) holds.
 */
export async function takePooledWorktree(repoPath: string, worktreePath: string, sha: string, branch: {name: string; mode: 'new' | 'reset'}, pool: PoolLocation): Promise<boolean> {
  for (const entry of readyWorktrees(pool.root, repoPath)) {
    const taken = `${entry.dir}.taken`
    try {
      renameSync(`${entry.dir}.ready`, taken)
    } catch {
      continue // taken meanwhile
    }
    try {
      if (!(await pristine(entry))) {
        await removePooledWorktree(repoPath, entry.dir, pool, {locked: true})
        continue
      }
      const moved = await git(['worktree', 'move', '--', entry.dir, worktreePath], {cwd: repoPath, allowFailure: true})
      if (moved.exitCode !== 0) {
        await removePooledWorktree(repoPath, entry.dir, pool, {locked: true})
        continue
      }
      const workers = entry.head === sha ? [] : await checkoutConfig(repoPath)
      try {
        await git([...workers, 'checkout', '--quiet', branch.mode === 'reset' ? '-B' : '-b', branch.name, sha, '--'], {cwd: worktreePath})
      } catch (error) {
        // the refusal a fresh checkout would meet too (e.g. the branch exists): the worktree goes
        await removePooledWorktree(repoPath, worktreePath, pool, {locked: true})
        throw error
      }
      return true
    } finally {
      rmSync(taken, {force: true})
    }
  }
  return false
}

/** A pooled worktree nobody has touched: at its recorded commit, detached, nothing to report. */
async function pristine(entry: PooledWorktree): Promise<boolean> {
  if (!existsSync(entry.dir)) return false
  const r = await git(['status', '--porcelain=v2', '--branch', '-z', '--untracked-files=all', '--ignored=traditional'], {cwd: entry.dir, allowFailure: true})
  if (r.exitCode !== 0) return false
  const records = r.stdout.split('\0').filter((line) => line.length > 0)
  return records.includes(`# branch.oid ${entry.head}`) && records.includes('# branch.head (detached)') && records.every((line) => line.startsWith('# '))
}

/**
 * Remove one pooled worktree (files, git's registration, markers). `locked`: the caller holds the
 * repository lock already.
 */
export async function removePooledWorktree(repoPath: string, dir: string, pool: PoolLocation, options: {locked?: boolean} = {}): Promise<void> {
  const remove = async () => {
    if (existsSync(repoPath)) await git(['worktree', 'remove', '--force', '--force', '--', dir], {cwd: repoPath, allowFailure: true})
    rmSync(dir, {recursive: true, force: true})
    if (existsSync(repoPath)) await git(['worktree', 'prune'], {cwd: repoPath, allowFailure: true})
  }
  await (options.locked ? remove() : withRepoLock(pool.locksDir, repoPath, remove))
  for (const suffix of ['.ready', '.ready.tmp', '.taken']) rmSync(`${dir}${suffix}`, {force: true})
}

/**
 * Remove the broken worktrees of a repository's pool (not ready and their maker gone), or with
 * `all` every worktree not being made right now. Returns the directories removed (`dryRun`: that
 * would be, nothing is removed).
 */
export async function prunePool(repoPath: string, pool: PoolLocation, options: {all?: boolean; dryRun?: boolean} = {}): Promise<string[]> {
  const dir = repoPoolDir(pool.root, repoPath)
  const removed: string[] = []
  for (const name of names(dir)) {
    const entry = path.join(dir, name)
    if (fillerAlive(entry) || existsSync(`${entry}.taken`)) continue
    if (!options.all && existsSync(`${entry}.ready`)) continue
    removed.push(entry)
    if (options.dryRun) continue
    await removePooledWorktree(repoPath, entry, pool)
    rmSync(`${entry}.filling`, {force: true})
  }
  if (options.all && !options.dryRun && names(dir).length === 0) rmSync(dir, {recursive: true, force: true})
  return removed
}

/** Every repository that has a pool under `root`: its path as recorded and its pool directory. */
export function pooledRepositories(root: string): {repoPath: string; dir: string}[] {
  let keys: string[]
  try {
    keys = readdirSync(root)
  } catch {
    return []
  }
  const pools: {repoPath: string; dir: string}[] = []
  for (const key of keys) {
    try {
      pools.push({repoPath: readFileSync(path.join(root, key, 'repo'), 'utf8').trim(), dir: path.join(root, key)})
    } catch {
      // not a pool directory
    }
  }
  return pools
}

/** Every pooled worktree directory under `root` (ready, being made or broken), oldest first. */
export function allPooledWorktrees(root: string): {repoPath: string; dir: string}[] {
  return pooledRepositories(root)
    .flatMap(({repoPath, dir}) => names(dir).map((name) => ({repoPath, dir: path.join(dir, name)})))
    .filter((entry) => existsSync(entry.dir))
    .sort((a, b) => path.basename(a.dir).localeCompare(path.basename(b.dir)))
}
