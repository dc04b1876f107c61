// The merge family through the built CLI on real git and real task worktrees (see
// test/support/merge-world.ts): clean merge, conflict, resolve ours/theirs, commit, abort, status,
// branches, skip and check. The refusals of bad input are in merge-refusals.test.ts.
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {beforeAll, describe, expect, test} from 'vitest'

import {useCleanup} from '../support/cli.js'
import {mergeWorld, type MergeWorld} from '../support/merge-world.js'

useCleanup({scope: 'all'})

const BRANCH_KEYS = ['isMerged', 'lastCommit', 'lastCommitMessage', 'name', 'taskId']

// Integration tasks, one per test, made in beforeAll (concurrently: each is a real claude run).
let w: MergeWorld<'theirs' | 'ours' | 'abort'>

beforeAll(async () => {
  w = await mergeWorld(['theirs', 'ours', 'abort'])
}, 240_000)

describe('merge start / status / resolve / commit', () => {
  test('clean merge commits at once; a conflicting one stays in progress until resolved with theirs and committed', async () => {
    const j = w.integration.theirs

    // merge branches: both subtask branches with their tasks, not merged; the task's own branch is not listed.
    const listed = await w.json(['merge', 'branches', j.shortId])
    expect(Object.keys(listed).sort()).toEqual(['branches', 'taskId'])
    expect(listed.taskId).toBe(j.id)
    const byName = new Map(listed.branches.map((b: any) => [b.name, b]))
    expect(byName.has(j.branch)).toBe(false)
    expect(Object.keys(byName.get(w.alpha.branch) as object).sort()).toEqual(BRANCH_KEYS)
    expect(byName.get(w.alpha.branch)).toEqual({
      name: w.alpha.branch,
      taskId: w.alpha.id,
      isMerged: false,
      lastCommit: w.gitIn(w.repo.dir, 'rev-parse', w.alpha.branch),
      lastCommitMessage: 'alpha edits shared.txt',
    })
    expect(byName.get(w.beta.branch)).toMatchObject({taskId: w.beta.id, isMerged: false, lastCommitMessage: 'beta edits shared.txt'})

    // First subtask: clean, committed at once as a merge commit (two parents).
    const first = await w.json(['merge', 'start', j.shortId, w.alpha.branch])
    expect(first).toMatchObject({taskId: j.id, success: true})
    expect(first.commitSha).toBe(w.gitIn(j.worktreePath, 'rev-parse', 'HEAD'))
    expect(w.gitIn(j.worktreePath, 'rev-parse', 'HEAD^2')).toBe(w.gitIn(w.repo.dir, 'rev-parse', w.alpha.branch))
    expect(w.read(j.worktreePath, 'shared.txt')).toBe('alpha\n')
    expect(w.hasMergeHead(j.worktreePath)).toBe(false)

    // Second subtask: conflict on shared.txt; exit 1, the merge is left in progress.
    const second = await w.json(['merge', 'start', j.shortId, w.beta.branch], 1)
    expect(second).toMatchObject({taskId: j.id, success: false, conflicts: ['shared.txt']})
    expect(second.message).toContain('shared.txt')
    expect(second.commitSha).toBeUndefined()
    expect(w.hasMergeHead(j.worktreePath)).toBe(true)

    const status = await w.json(['merge', 'status', j.shortId])
    expect(status).toEqual({taskId: j.id, inProgress: true, sourceBranch: w.beta.branch, conflictedFiles: ['shared.txt']})

    // Refusals while in progress: another start, a file that is not conflicted, a commit with conflicts left.
    const again = await w.makima(['merge', 'start', j.shortId, w.alpha.branch])
    expect(again.code).toBe(4)
    expect(again.stderr).toContain(`a merge is already in progress (from ${w.beta.branch})`)
    const notConflicted = await w.makima(['merge', 'resolve', j.shortId, 'beta-only.txt', '--strategy', 'ours'])
    expect(notConflicted.code).toBe(4)
    expect(notConflicted.stderr).toMatch(/"beta-only.txt" is not conflicted/)
    const early = await w.makima(['merge', 'commit', j.shortId, '-m', 'too early'])
    expect(early.code).toBe(4)
    expect(early.stderr).toContain('shared.txt')
    expect(w.hasMergeHead(j.worktreePath)).toBe(true)

    // Resolve with theirs: the second subtask's content.
    const resolved = await w.json(['merge', 'resolve', j.shortId, 'shared.txt', '--strategy', 'theirs'])
    expect(resolved).toMatchObject({taskId: j.id, success: true, conflicts: []})
    expect(w.read(j.worktreePath, 'shared.txt')).toBe('beta\n')
    expect(await w.json(['merge', 'status', j.shortId])).toEqual({taskId: j.id, inProgress: true, sourceBranch: w.beta.branch, conflictedFiles: []})

    const committed = await w.json(['merge', 'commit', j.shortId, '-m', 'Merge beta, keeping its shared.txt'])
    expect(committed).toMatchObject({taskId: j.id, success: true})
    expect(committed.commitSha).toBe(w.gitIn(j.worktreePath, 'rev-parse', 'HEAD'))
    expect(w.gitIn(j.worktreePath, 'log', '-1', '--format=%s')).toBe('Merge beta, keeping its shared.txt')
    expect(w.gitIn(j.worktreePath, 'rev-parse', 'HEAD^2')).toBe(w.gitIn(w.repo.dir, 'rev-parse', w.beta.branch))
    expect(w.gitIn(j.worktreePath, 'log', '--merges', '--format=%s', j.branch).split('\n')).toHaveLength(2)
    expect(w.read(j.worktreePath, 'beta-only.txt')).toBe('from beta\n')
    expect(w.read(j.worktreePath, 'alpha-only.txt')).toBe('from alpha\n')
    expect(w.gitIn(j.worktreePath, 'status', '--porcelain')).toBe('')
    expect(await w.json(['merge', 'status', j.shortId])).toEqual({taskId: j.id, inProgress: false, sourceBranch: null, conflictedFiles: []})

    const after = new Map((await w.json(['merge', 'branches', j.shortId])).branches.map((b: any) => [b.name, b.isMerged]))
    expect(after.get(w.alpha.branch)).toBe(true)
    expect(after.get(w.beta.branch)).toBe(true)
  }, 120_000)

  test("resolved with ours (human output): the task keeps the first subtask's line and gains the rest of the branch", async () => {
    const k = w.integration.ours
    const first = await w.makima(['merge', 'start', k.shortId, w.alpha.branch])
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain(`Merged ${w.alpha.branch}`)
    expect(first.stdout).toContain(`commit ${w.gitIn(k.worktreePath, 'rev-parse', 'HEAD')}`)

    const second = await w.makima(['merge', 'start', k.shortId, w.beta.branch])
    expect(second.code).toBe(1)
    expect(second.stdout).toContain('conflict: shared.txt')
    expect(second.stderr).toContain('merge resolve')

    const status = await w.makima(['merge', 'status', k.shortId])
    expect(status.code).toBe(0)
    expect(status.stdout).toContain(`Merging ${w.beta.branch}`)
    expect(status.stdout).toContain('conflict: shared.txt')

    const resolved = await w.makima(['merge', 'resolve', k.shortId, './shared.txt', '--strategy', 'ours'])
    expect(resolved.code, resolved.stderr).toBe(0)
    expect(resolved.stdout).toContain('no conflicts left')
    const committed = await w.makima(['merge', 'commit', k.shortId, '-m', 'Merge beta, keeping ours'])
    expect(committed.code, committed.stderr).toBe(0)
    expect(w.read(k.worktreePath, 'shared.txt')).toBe('alpha\n')
    expect(w.read(k.worktreePath, 'beta-only.txt')).toBe('from beta\n')
    expect(w.gitIn(k.worktreePath, 'log', '-1', '--format=%s%n%P')).toBe(
      `Merge beta, keeping ours\n${w.gitIn(k.worktreePath, 'rev-parse', 'HEAD^1')} ${w.gitIn(w.repo.dir, 'rev-parse', w.beta.branch)}`,
    )
    expect(w.hasMergeHead(k.worktreePath)).toBe(false)
    expect((await w.makima(['merge', 'status', k.shortId])).stdout).toContain('No merge in progress.')
  }, 120_000)

  test('abort restores the state before merge start; with nothing in progress abort, commit and resolve are refused', async () => {
    const l = w.integration.abort
    await w.json(['merge', 'start', l.shortId, w.alpha.branch])
    const before = w.gitIn(l.worktreePath, 'rev-parse', 'HEAD')
    await w.json(['merge', 'start', l.shortId, w.beta.branch], 1)
    expect(w.read(l.worktreePath, 'shared.txt')).toContain('<<<<<<<')

    const aborted = await w.json(['merge', 'abort', l.shortId])
    expect(aborted).toMatchObject({taskId: l.id, success: true})
    expect(aborted.message).toContain(w.beta.branch)
    expect(w.gitIn(l.worktreePath, 'rev-parse', 'HEAD')).toBe(before)
    expect(w.hasMergeHead(l.worktreePath)).toBe(false)
    expect(w.read(l.worktreePath, 'shared.txt')).toBe('alpha\n')
    expect(existsSync(join(l.worktreePath, 'beta-only.txt'))).toBe(false)
    expect(w.gitIn(l.worktreePath, 'status', '--porcelain')).toBe('')
    expect((await w.json(['merge', 'status', l.shortId])).inProgress).toBe(false)

    for (const args of [['abort'], ['commit', '-m', 'nothing'], ['resolve', 'shared.txt', '--strategy', 'ours']]) {
      const r = await w.makima(['merge', args[0], l.shortId, ...args.slice(1)])
      expect(r.code, `merge ${args.join(' ')}\n${r.stderr}`).toBe(4)
      expect(r.stderr).toContain('no merge is in progress')
    }
    expect(w.gitIn(l.worktreePath, 'rev-parse', 'HEAD')).toBe(before)
  }, 120_000)
})

describe('merge skip / check', () => {
  test('check fails and lists the unmerged branch until it is merged or skipped with a reason', async () => {
    const initial = await w.json(['merge', 'check', w.parent.shortId], 1)
    expect(initial).toEqual({taskId: w.parent.id, canComplete: false, unmergedBranches: [w.alpha.branch, w.beta.branch].sort(), mergedCount: 0, skippedCount: 0})

    await w.json(['merge', 'start', w.parent.shortId, w.alpha.branch])
    const human = await w.makima(['merge', 'check', w.parent.shortId])
    expect(human.code).toBe(1)
    expect(human.stdout).toContain(w.beta.branch)
    expect(human.stdout).not.toContain(w.alpha.branch)
    expect(await w.json(['merge', 'check', w.parent.shortId], 1)).toEqual({
      taskId: w.parent.id,
      canComplete: false,
      unmergedBranches: [w.beta.branch],
      mergedCount: 1,
      skippedCount: 0,
    })

    // Refused skips change nothing: an unknown task (3), the task itself or a task that is not its subtask (2).
    expect((await w.makima(['merge', 'skip', w.parent.shortId, 'ffff0000', '--reason', 'x'])).code).toBe(3)
    const self = await w.makima(['merge', 'skip', w.parent.shortId, w.parent.shortId, '--reason', 'x'])
    expect(self.code).toBe(2)
    const notSub = await w.makima(['merge', 'skip', w.alpha.shortId, w.beta.shortId, '--reason', 'x'])
    expect(notSub.code).toBe(2)
    expect(notSub.stderr).toContain('is not a subtask of')
    expect((await w.makima(['merge', 'skip', w.parent.shortId, w.beta.shortId])).code).toBe(2) // --reason is required
    expect((await w.json(['merge', 'check', w.parent.shortId], 1)).skippedCount).toBe(0)

    const skipped = await w.json(['merge', 'skip', w.parent.shortId, w.beta.shortId, '--reason', 'superseded by alpha'])
    expect(skipped).toMatchObject({taskId: w.parent.id, success: true})
    expect(skipped.message).toContain('superseded by alpha')

    expect(await w.json(['merge', 'check', w.parent.shortId])).toEqual({
      taskId: w.parent.id,
      canComplete: true,
      unmergedBranches: [],
      mergedCount: 1,
      skippedCount: 1,
    })
    const ok = await w.makima(['merge', 'check', w.parent.shortId])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain('Can complete: 1 merged, 1 skipped')
  }, 120_000)
})
