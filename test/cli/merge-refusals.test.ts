// The merge commands' refusals of bad input through the built CLI on real git and real task
// worktrees (see test/support/merge-world.ts): bad source branches, files outside the worktree,
// uncommitted changes a merge would overwrite, tasks without a worktree or repository, unknown
// tasks. Each refusal changes nothing.
import {mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {beforeAll, describe, expect, test} from 'vitest'

import {useCleanup} from '../support/cli.js'
import {mergeWorld, type MergeWorld} from '../support/merge-world.js'

useCleanup({scope: 'all'})

// Integration tasks, one per test, made in beforeAll (concurrently: each is a real claude run).
let w: MergeWorld<'refusals' | 'paths' | 'dirty' | 'gone'>

beforeAll(async () => {
  w = await mergeWorld(['refusals', 'paths', 'dirty', 'gone'])
}, 240_000)

describe('refusals', () => {
  test('bad source branches: exit 2 naming the value, nothing changed; unknown branch 3; own branch 2', async () => {
    const m = w.integration.refusals
    const head = w.gitIn(m.worktreePath, 'rev-parse', 'HEAD')
    const refs = w.gitIn(w.repo.dir, 'for-each-ref', '--format=%(refname) %(objectname)')
    for (const bad of ['--upload-pack=x', '../x', 'a..b', '-x', 'makima/a b']) {
      const r = await w.makima(['merge', 'start', m.shortId, '--json', '--', bad])
      expect(r.code, `${bad}: ${r.stderr}`).toBe(2)
      expect(r.stderr).toContain(bad)
      expect(JSON.parse(r.stdout).error).toMatchObject({code: 'INVALID_INPUT'})
      expect(JSON.parse(r.stdout).error.message).toContain(bad)
    }
    // Without `--` oclif takes --upload-pack=x for a flag and refuses it just the same.
    const flag = await w.makima(['merge', 'start', m.shortId, '--upload-pack=x'])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toContain('--upload-pack=x')

    const missing = await w.makima(['merge', 'start', m.shortId, 'makima/does-not-exist'])
    expect(missing.code).toBe(3)
    expect(missing.stderr).toContain('makima/does-not-exist')
    const own = await w.makima(['merge', 'start', m.shortId, m.branch])
    expect(own.code).toBe(2)

    expect(w.gitIn(m.worktreePath, 'rev-parse', 'HEAD')).toBe(head)
    expect(w.hasMergeHead(m.worktreePath)).toBe(false)
    expect(w.gitIn(m.worktreePath, 'status', '--porcelain')).toBe('')
    expect(w.gitIn(w.repo.dir, 'for-each-ref', '--format=%(refname) %(objectname)')).toBe(refs)
  }, 120_000)

  test('resolve refuses files outside the worktree (2) during a merge and leaves it untouched; bad strategy 2', async () => {
    const n = w.integration.paths
    await w.json(['merge', 'start', n.shortId, w.alpha.branch])
    await w.json(['merge', 'start', n.shortId, w.beta.branch], 1)
    const conflicted = w.read(n.worktreePath, 'shared.txt')
    mkdirSync(join(w.t.root, 'outside'), {recursive: true})
    writeFileSync(join(w.t.root, 'outside', 'shared.txt'), 'outside\n')
    symlinkSync(join(w.t.root, 'outside'), join(n.worktreePath, 'escape'))

    for (const bad of ['../../etc/passwd', '/etc/passwd', 'escape/shared.txt', `../${n.worktreePath.split('/').pop()}/../outside/shared.txt`]) {
      const r = await w.makima(['merge', 'resolve', n.shortId, bad, '--strategy', 'theirs'])
      expect(r.code, `${bad}: ${r.stderr}`).toBe(2)
      expect(r.stderr).toContain(bad)
    }
    const strategy = await w.makima(['merge', 'resolve', n.shortId, 'shared.txt', '--strategy', 'mine'])
    expect(strategy.code).toBe(2)
    expect(strategy.stderr).toContain('mine')

    expect(w.read(n.worktreePath, 'shared.txt')).toBe(conflicted)
    expect(readFileSync(join(w.t.root, 'outside', 'shared.txt'), 'utf8')).toBe('outside\n')
    expect((await w.json(['merge', 'status', n.shortId])).conflictedFiles).toEqual(['shared.txt'])
    await w.json(['merge', 'abort', n.shortId])
  }, 120_000)

  test('uncommitted changes the merge would overwrite: git refuses, exit 4, the changes are kept', async () => {
    const d = w.integration.dirty
    const head = w.gitIn(d.worktreePath, 'rev-parse', 'HEAD')
    writeFileSync(join(d.worktreePath, 'shared.txt'), 'uncommitted work\n')
    const r = await w.makima(['merge', 'start', d.shortId, w.alpha.branch])
    expect(r.code, r.stderr).toBe(4)
    expect(r.stderr).toMatch(/local changes .*would be overwritten by merge.*shared\.txt/)
    expect(w.gitIn(d.worktreePath, 'rev-parse', 'HEAD')).toBe(head)
    expect(w.hasMergeHead(d.worktreePath)).toBe(false)
    expect(w.read(d.worktreePath, 'shared.txt')).toBe('uncommitted work\n')
  }, 120_000)

  test('a task without a worktree or repository: exit 4; an unknown task: exit 3', async () => {
    const id = w.noRepoTask.id
    for (const args of [
      ['status', id],
      ['branches', id],
      ['check', id],
      ['start', id, w.alpha.branch],
      ['abort', id],
    ]) {
      const r = await w.makima(['merge', ...args])
      expect(r.code, `merge ${args.join(' ')}: ${r.stderr}`).toBe(4)
      expect(r.stderr).toContain('has no repository')
    }

    const gone = w.integration.gone
    expect((await w.makima(['task', 'cleanup', gone.id])).code).toBe(0)
    const r = await w.makima(['merge', 'status', gone.shortId])
    expect(r.code).toBe(4)
    expect(r.stderr).toContain('has no worktree')

    expect((await w.makima(['merge', 'status', 'deadbeef'])).code).toBe(3)
  }, 120_000)
})
