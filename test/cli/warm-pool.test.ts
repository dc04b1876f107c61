// worktree.warmPool through the built CLI with the REAL claude (scripted API; issue 22): a task's
// end refills the pool in the background (a detached `task pool-fill`), the next spawn takes the
// pooled worktree (on its own branch at its base, clean), the pool is refilled again, and `task
// prune --pool` removes it with git's registration; `task pool-fill` without a pool size is refused.
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {readyWorktrees} from '../../src/lib/git/worktree-pool.js'
import {runCli, useCleanup} from '../support/cli.js'
import {git} from '../support/git-fixtures.js'
import {repoWorld} from '../support/repo-world.js'
import {steps} from '../support/scripted-api.js'

useCleanup()

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = probe()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const worktreePaths = (repo: string) =>
  git(repo, 'worktree', 'list', '--porcelain')
    .split('\n')
    .filter((l) => l.startsWith('worktree '))
    .map((l) => l.slice('worktree '.length))

describe('warm pool (worktree.warmPool)', () => {
  test('refilled when a task ends, taken by the next spawn, removed by task prune --pool', async () => {
    const w = await repoWorld(steps({text: 'ok'}), {extra: {MAKIMA_DAEMON_WORKTREE_WARMPOOL: '1'}})
    const repo = w.repo.dir
    const poolRoot = join(w.t.makimaHome, 'worktrees', '.pool')
    const ready = () => {
      const list = readyWorktrees(poolRoot, repo)
      return list.length === 1 ? list[0] : undefined
    }

    const first = await w.waitCompleted(await w.spawnDetached(['--repo', repo, 'first task']))
    expect(first.state).toBe('completed')
    const pooled = await until('the pool to be refilled after the first task', ready)
    expect(git(pooled.dir, 'rev-parse', 'HEAD')).toBe(w.repo.head)

    const second = await w.waitCompleted(await w.spawnDetached(['--repo', repo, 'second task']))
    expect(second.state).toBe('completed')
    expect(existsSync(pooled.dir)).toBe(false)
    expect(git(second.worktreePath, 'symbolic-ref', '--short', 'HEAD')).toBe(second.branch)
    expect(git(second.worktreePath, 'rev-parse', 'HEAD')).toBe(w.repo.head)
    expect(second.baseSha).toBe(w.repo.head)
    expect(git(second.worktreePath, 'status', '--porcelain', '--untracked-files=all')).toBe('')
    const logs = (await w.makima(['task', 'logs', second.id])).stdout
    expect(logs).toContain('taken from the warm pool')
    const refilled = await until('the pool to be refilled after the second task', () => {
      const entry = ready()
      return entry && entry.dir !== pooled.dir ? entry : undefined
    })

    expect(worktreePaths(repo).sort()).toEqual([repo, first.worktreePath, second.worktreePath, refilled.dir].sort())
    const pruned = await w.json(['task', 'prune', '--pool'])
    expect(pruned.pruned).toEqual([])
    expect(pruned.pool).toEqual([{repoPath: repo, dir: refilled.dir}])
    expect(existsSync(refilled.dir)).toBe(false)
    expect(worktreePaths(repo).sort()).toEqual([repo, first.worktreePath, second.worktreePath].sort())

    const off = await runCli(['task', 'pool-fill', '--repo', repo], {env: {...w.t.env, MAKIMA_DAEMON_WORKTREE_WARMPOOL: '0'}, cwd: w.t.root})
    expect(off.code).toBe(2)
    expect(off.stderr).toContain('worktree.warmPool is 0')
  })
})
