// The warm pool (src/lib/git/worktree-pool.ts, tasks/workspace/pool.ts; issue 22): pooled
// worktrees are made ready (detached, clean, index not racily clean), taken by ensureWorktree and
// moved to the requested base and a new branch touching only the files that differ, refilled up
// to worktree.warmPool, and never handed out dirty or broken; prune removes them without leaving
// a registration behind.
import {existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, test} from 'vitest'

import {loadConfig} from '../../src/lib/config/load.js'
import {fillPooledWorktree, poolSize, prunePool, readyWorktrees, repoPoolDir} from '../../src/lib/git/worktree-pool.js'
import {ensureWorktree} from '../../src/lib/git/worktrees.js'
import {poolLocation, prunePools, refillPool} from '../../src/lib/tasks/workspace/pool.js'
import {git, makeRepo, tempRoots} from '../support/git-fixtures.js'

const tempRoot = tempRoots('makima-pool-')

function world(warmPool = 1) {
  const root = tempRoot()
  const files: Record<string, string> = {}
  for (let i = 0; i < 50; i++) files[`src/f${i}.txt`] = `file ${i}\n`
  const repo = makeRepo(root, {files})
  const config = loadConfig({env: {MAKIMA_HOME: path.join(root, 'home'), MAKIMA_DAEMON_WORKTREE_WARMPOOL: String(warmPool)}})
  const pool = poolLocation(config)
  const take = (name: string, startAt = 'main') =>
    ensureWorktree({repoPath: repo.dir, worktreePath: path.join(config.worktree.baseDir, name), locksDir: pool.locksDir, startAt, branch: {name: `makima/${name}`, mode: 'new'}, pool})
  return {root, repo, config, pool, take}
}

/** The registered worktrees of a repository, by path. */
const registered = (repo: string) =>
  git(repo, 'worktree', 'list', '--porcelain')
    .split('\n')
    .filter((l) => l.startsWith('worktree '))
    .map((l) => l.slice('worktree '.length))

describe('warm pool', () => {
  test('a pooled worktree is ready: detached at the head, clean, marked, its index written after its files', async () => {
    const {repo, pool} = world()
    const entry = await fillPooledWorktree(repo.dir, 'main', pool)
    expect(entry.head).toBe(repo.head)
    expect(readyWorktrees(pool.root, repo.dir)).toEqual([entry])
    expect(git(entry.dir, 'rev-parse', 'HEAD')).toBe(repo.head)
    expect(git(entry.dir, 'status', '--porcelain', '--branch', '--untracked-files=all', '--ignored')).toBe('## HEAD (no branch)')
    // no file is racily clean: the index is newer (in whole seconds) than every file
    const index = git(entry.dir, 'rev-parse', '--path-format=absolute', '--git-path', 'index')
    const indexSecond = Math.floor(statSync(index).mtimeMs / 1000)
    for (const f of readdirSync(path.join(entry.dir, 'src'))) expect(Math.floor(statSync(path.join(entry.dir, 'src', f)).mtimeMs / 1000)).toBeLessThan(indexSecond)
    expect(existsSync(`${entry.dir}.filling`)).toBe(false)
  })

  test('a spawn takes it, moved to the requested base and a new branch, touching only the files that differ', async () => {
    const {repo, pool, take, config} = world()
    const entry = await fillPooledWorktree(repo.dir, 'main', pool)
    const unchangedIno = statSync(path.join(entry.dir, 'src', 'f1.txt')).ino
    // the base moves on after the pool was filled: one file changed, one added, one deleted
    repo.git('checkout', '-q', '-b', 'feature')
    writeFileSync(path.join(repo.dir, 'src', 'f0.txt'), 'changed on feature\n')
    writeFileSync(path.join(repo.dir, 'added.txt'), 'added on feature\n')
    repo.git('rm', '-q', 'src/f2.txt')
    repo.git('add', '-A')
    repo.git('commit', '-q', '-m', 'feature work')
    const feature = repo.git('rev-parse', 'HEAD')
    repo.git('checkout', '-q', 'main')

    const made = await take('t1', 'feature')
    const wt = path.join(config.worktree.baseDir, 't1')
    expect(made).toEqual({headSha: feature, pooled: true})
    expect(existsSync(entry.dir)).toBe(false)
    expect(git(wt, 'symbolic-ref', '--short', 'HEAD')).toBe('makima/t1')
    expect(git(wt, 'rev-parse', 'HEAD')).toBe(feature)
    expect(git(wt, 'status', '--porcelain', '--untracked-files=all')).toBe('')
    expect(existsSync(path.join(wt, 'added.txt'))).toBe(true)
    expect(existsSync(path.join(wt, 'src', 'f2.txt'))).toBe(false)
    expect(statSync(path.join(wt, 'src', 'f1.txt')).ino).toBe(unchangedIno)
    expect(registered(repo.dir)).toEqual([repo.dir, wt])
    expect(readyWorktrees(pool.root, repo.dir)).toEqual([])
    expect(readFileSync(path.join(repo.dir, '.git', 'info', 'exclude'), 'utf8').split('\n')).toContain('/.makima/')

    // empty pool: the next spawn checks out as usual; refillPool tops it up to worktree.warmPool
    expect((await take('t2')).pooled).toBe(false)
    expect(await refillPool(config, repo.dir, 'main')).toBe(1)
    expect(await refillPool(config, repo.dir, 'main')).toBe(0)
    expect(poolSize(pool.root, repo.dir)).toBe(1)
  })

  test('a dirty or moved pooled worktree is never handed out: it is removed and the next one taken', async () => {
    const {repo, pool, take, config} = world(4)
    const untracked = await fillPooledWorktree(repo.dir, 'main', pool)
    const modified = await fillPooledWorktree(repo.dir, 'main', pool)
    const ignored = await fillPooledWorktree(repo.dir, 'main', pool)
    const moved = await fillPooledWorktree(repo.dir, 'main', pool)
    writeFileSync(path.join(untracked.dir, 'stray.txt'), 'left here\n')
    writeFileSync(path.join(modified.dir, 'src', 'f3.txt'), 'edited in the pool\n')
    writeFileSync(path.join(repo.dir, '.git', 'info', 'exclude'), '*.o\n')
    writeFileSync(path.join(ignored.dir, 'left.o'), 'an ignored build product\n')
    git(moved.dir, '-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '-q', '--allow-empty', '-m', 'moved on')
    const clean = await fillPooledWorktree(repo.dir, 'main', pool)

    const made = await take('t1')
    expect(made.pooled).toBe(true)
    const wt = path.join(config.worktree.baseDir, 't1')
    expect(git(wt, 'status', '--porcelain', '--untracked-files=all')).toBe('')
    for (const bad of [untracked, modified, ignored, moved]) expect(existsSync(bad.dir)).toBe(false)
    expect(existsSync(clean.dir)).toBe(false) // it became t1
    expect(registered(repo.dir)).toEqual([repo.dir, wt])
    expect(readdirSync(repoPoolDir(pool.root, repo.dir))).toEqual(['repo'])
  })

  test('a broken pooled worktree (its maker gone before it was ready) is removed by the next refill or prune, never taken', async () => {
    const {repo, pool, take, config} = world(1)
    const entry = await fillPooledWorktree(repo.dir, 'main', pool)
    rmSync(`${entry.dir}.ready`) // as if its maker died before marking it ready
    writeFileSync(`${entry.dir}.filling`, '999999') // a pid that is not alive
    expect(poolSize(pool.root, repo.dir)).toBe(0)
    expect((await take('t1')).pooled).toBe(false)
    expect(await prunePool(repo.dir, pool, {dryRun: true})).toEqual([entry.dir])
    expect(existsSync(entry.dir)).toBe(true)
    expect(await refillPool(config, repo.dir, 'main')).toBe(1)
    expect(existsSync(entry.dir)).toBe(false)
    expect(registered(repo.dir)).not.toContain(entry.dir)
  })

  test('a branch that exists is refused as git refuses it, and the pooled worktree does not stay behind', async () => {
    const {repo, pool, take, config} = world(1)
    await fillPooledWorktree(repo.dir, 'main', pool)
    repo.git('branch', 'makima/t1')
    await expect(take('t1')).rejects.toThrow(/already exists/)
    expect(existsSync(path.join(config.worktree.baseDir, 't1'))).toBe(false)
    expect(registered(repo.dir)).toEqual([repo.dir])
  })

  test('task prune --pool (prunePools all) removes every pooled worktree and its registration; git worktree prune leaves nothing stale', async () => {
    const {repo, pool, config} = world(2)
    expect(await refillPool(config, repo.dir, 'main')).toBe(2)
    const dirs = readyWorktrees(pool.root, repo.dir).map((e) => e.dir)
    expect(registered(repo.dir)).toEqual([repo.dir, ...dirs])
    expect(await prunePools(config, {all: true, dryRun: true})).toEqual(dirs.map((dir) => ({repoPath: repo.dir, dir})))
    expect(await prunePools(config, {})).toEqual([]) // nothing broken
    expect(await prunePools(config, {all: true})).toHaveLength(2)
    expect(registered(repo.dir)).toEqual([repo.dir])
    expect(existsSync(repoPoolDir(pool.root, repo.dir))).toBe(false)
    git(repo.dir, 'worktree', 'prune')
    expect(registered(repo.dir)).toEqual([repo.dir])
  })
})
