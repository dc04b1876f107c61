// `task prune` through the built CLI with real repositories and the REAL claude (scripted API):
// --merged finds branches merged by a merge, a squash merge and a rebase merge, never an unmerged
// one; a worktree with uncommitted work is snapshotted before it goes (restorable), and unmerged
// commits stay on their branch; --dry-run removes nothing; bad filters are refused by name.
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {useCleanup} from '../support/cli.js'
import {git} from '../support/git-fixtures.js'
import {repoWorld, type RepoWorld} from '../support/repo-world.js'
import {steps} from '../support/scripted-api.js'

useCleanup()

async function taskWithCommits(w: RepoWorld, name: string, files: Record<string, string>[]): Promise<any> {
  const id = await w.spawnDetached(['--repo', w.repo.dir, '--name', name, `work on ${name}`])
  const task = await w.waitCompleted(id)
  for (const [i, commit] of files.entries()) {
    for (const [file, text] of Object.entries(commit)) writeFileSync(join(task.worktreePath, file), text)
    git(task.worktreePath, 'add', '-A')
    git(task.worktreePath, 'commit', '-q', '-m', `${name} ${i + 1}`)
  }
  return task
}

const branchExists = (repo: string, branch: string) => git(repo, 'branch', '--list', branch) !== ''

describe('task prune', () => {
  test('--merged: merge, squash and rebase merges are pruned; an unmerged task with uncommitted work is kept until pruned by state, after a snapshot', async () => {
    const w = await repoWorld(steps({text: 'ok'}))
    const repo = w.repo.dir
    const merged = await taskWithCommits(w, 'merged', [{'m.txt': 'merged\n'}])
    const squashed = await taskWithCommits(w, 'squashed', [{'s1.txt': 'one\n'}, {'s2.txt': 'two\n'}])
    const rebased = await taskWithCommits(w, 'rebased', [{'r1.txt': 'one\n'}, {'r2.txt': 'two\n'}])
    const open = await taskWithCommits(w, 'open', [{'o.txt': 'open\n'}])
    writeFileSync(join(open.worktreePath, 'README.md'), 'uncommitted change\n')

    // main: an unrelated commit, then each kind of merge.
    writeFileSync(join(repo, 'main.txt'), 'main moved on\n')
    git(repo, 'add', 'main.txt')
    git(repo, 'commit', '-q', '-m', 'main work')
    git(repo, 'merge', '-q', '--no-edit', merged.branch)
    git(repo, 'merge', '-q', '--squash', squashed.branch)
    git(repo, 'commit', '-q', '-m', 'squashed')
    git(repo, 'cherry-pick', `main..${rebased.branch}`)

    const dry = await w.json(['task', 'prune', '--merged', '--dry-run'])
    expect(dry.dryRun).toBe(true)
    const byName = new Map<string, any>(dry.pruned.map((e: any) => [e.shortId, e]))
    expect([...byName.keys()].sort()).toEqual([merged.shortId, squashed.shortId, rebased.shortId].sort())
    expect(byName.get(merged.shortId).reasons.join(' ')).toContain('(ancestor)')
    expect(byName.get(squashed.shortId).reasons.join(' ')).toContain('(same-tree)')
    expect(byName.get(rebased.shortId).reasons.join(' ')).toContain('(same-patches)')
    for (const t of [merged, squashed, rebased, open]) expect(existsSync(t.worktreePath)).toBe(true)
    const dryText = (await w.makima(['task', 'prune', '--merged', '--dry-run'])).stdout
    expect(dryText).toContain(`would remove ${squashed.shortId} ${squashed.worktreePath}`)

    const r = await w.json(['task', 'prune', '--merged', '--delete-branch'])
    expect(r.pruned).toHaveLength(3)
    for (const t of [merged, squashed, rebased]) {
      expect(existsSync(t.worktreePath)).toBe(false)
      expect(branchExists(repo, t.branch)).toBe(false)
    }
    expect(existsSync(open.worktreePath)).toBe(true)

    // Without --merged: the open task goes too, its uncommitted work snapshotted, its branch kept.
    const last = await w.makima(['task', 'prune', '--state', 'completed', '--delete-branch'])
    expect(last.code, last.stderr).toBe(0)
    expect(last.stdout).toContain(`${open.shortId}: `)
    expect(last.stdout).toContain('uncommitted work kept at refs/makima/')
    expect(last.stdout).toMatch(/makima checkpoint restore \w+ \d+ /)
    expect(last.stdout).toContain(`1 commit(s) not in the base stay on ${open.branch}`)
    expect(existsSync(open.worktreePath)).toBe(false)
    expect(branchExists(repo, open.branch)).toBe(true)
    expect((await w.makima(['task', 'prune'])).stdout).toContain('Nothing to prune.')
  }, 240_000)

  test('--older-than and --state: a bad value is refused naming it; a recent task is not old enough', async () => {
    const w = await repoWorld(steps({text: 'ok'}))
    const bad = await w.makima(['task', 'prune', '--older-than', '7x'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--older-than "7x" is not a duration')
    const running = await w.makima(['task', 'prune', '--state', 'completed,running'])
    expect(running.code).toBe(2)
    expect(running.stderr).toContain('--state "running" is not an ended state')
    const id = await w.spawnDetached(['--repo', w.repo.dir, 'recent'])
    const task = await w.waitCompleted(id)
    expect((await w.json(['task', 'prune', '--older-than', '1h'])).pruned).toEqual([])
    expect(existsSync(task.worktreePath)).toBe(true)
  }, 120_000)
})
