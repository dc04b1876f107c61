// `task diff` against the merge-base (committed work, working tree, untracked and binary files),
// `task cleanup` of a dirty worktree -> final snapshot -> `checkpoint restore` byte-identical,
// and side refs dropped when the task's history expires. Real claude, scripted API, real git.
import {execFileSync} from 'node:child_process'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {useCleanup} from '../support/cli.js'
import {checkpointWorld, treeBytes, treeDifferences} from '../support/checkpoint-world.js'
import {steps} from '../support/scripted-api.js'

useCleanup()

const SKIP = ['.git', '.makima']

describe('task diff', () => {
  test('shows committed work, working-tree edits and untracked files (as added) against the merge-base, never the base tip', async () => {
    const w = await checkpointWorld(
      steps(
        {
          bash: "printf 'committed\\n' > committed.txt && git add committed.txt && git commit -qm 'task commit' && printf 'fresh\\n' > untracked.txt && head -c 2048 /dev/urandom > data.bin && printf 'edit\\n' >> README.md",
        },
        {text: 'Done.'},
      ),
    )
    const task = await w.json(['task', 'spawn', '--repo', w.repo.dir, 'commit one file, leave others'])
    expect(task.state).toBe('completed')
    const wt = task.worktreePath as string
    const statusBefore = w.git(wt, 'status', '--porcelain', '--untracked-files=all')
    expect(w.git(wt, 'rev-list', '--count', `${w.repo.head}..HEAD`)).toBe('1')
    // The base branch moves on after the task started: its new file must not show (as deleted).
    writeFileSync(join(w.repo.dir, 'main-only.txt'), 'main\n')
    w.repo.git('add', 'main-only.txt')
    w.repo.git('commit', '-qm', 'main moves on')

    const r = await w.makima(['task', 'diff', task.shortId])
    expect(r.code, r.stderr).toBe(0)
    const diff = r.stdout
    expect(diff).toMatch(/^diff --git a\/untracked\.txt b\/untracked\.txt\nnew file mode 100644\n/m)
    expect(diff).toMatch(/^\+fresh$/m)
    expect(diff).toMatch(/^diff --git a\/committed\.txt b\/committed\.txt\nnew file mode 100644\n/m)
    expect(diff).toMatch(/^\+committed$/m)
    expect(diff).toMatch(/^diff --git a\/README\.md b\/README\.md\n/m)
    expect(diff).toMatch(/^\+edit$/m)
    expect(diff).toMatch(/^diff --git a\/data\.bin b\/data\.bin\nnew file mode 100644\n[^\n]*\nGIT binary patch$/m)
    expect(diff).not.toContain('main-only.txt')
    expect(diff.match(/^diff --git /gm)).toHaveLength(4)

    // The diff is a patch: applied on a checkout of the merge-base it rebuilds the worktree byte for byte.
    const check = join(w.t.root, 'apply-check')
    w.git(w.repo.dir, 'worktree', 'add', '--detach', check, w.repo.head)
    execFileSync('git', ['apply', '--binary', '-'], {cwd: check, input: diff, env: w.t.env})
    expect(treeDifferences(treeBytes(wt, SKIP), treeBytes(check, SKIP))).toEqual([])

    const stat = await w.makima(['task', 'diff', task.shortId, '--stat'])
    expect(stat.code).toBe(0)
    for (const file of ['README.md', 'committed.txt', 'untracked.txt', 'data.bin']) expect(stat.stdout).toContain(file)
    expect(stat.stdout).toMatch(/4 files changed/)

    const json = await w.json(['task', 'diff', task.id])
    expect(Object.keys(json).sort()).toEqual(['diff', 'success', 'taskId'])
    expect(json).toMatchObject({taskId: task.id, success: true})
    expect(json.diff).toBe(diff)
    // Looking did not touch the worktree's index or files.
    expect(w.git(wt, 'status', '--porcelain', '--untracked-files=all')).toBe(statusBefore)
    expect(statusBefore.split('\n').sort()).toEqual([' M README.md', '?? data.bin', '?? untracked.txt'])
  }, 120_000)
})

describe('cleanup of a dirty worktree, then restore', () => {
  test('the final snapshot restores byte-identically; diff still works; expired history takes its side refs along', async () => {
    const w = await checkpointWorld(
      steps(
        {bash: "printf 'keep me\\n' > notes.txt && head -c 3000 /dev/urandom > blob.bin && printf 'changed\\n' >> README.md && mkdir -p deep/dir && printf 'x' > deep/dir/f.txt"},
        {text: 'Left some work.'},
      ),
    )
    const task = await w.json(['task', 'spawn', '--repo', w.repo.dir, 'leave uncommitted work'])
    expect(task.state).toBe('completed')
    const wt = task.worktreePath as string
    const before = treeBytes(wt, SKIP)
    expect([...before.keys()].sort()).toEqual(['README.md', 'blob.bin', 'deep/dir/f.txt', 'notes.txt'])

    const cleaned = await w.json(['task', 'cleanup', task.id])
    expect(cleaned.worktreeRemoved).toBe(true)
    expect(cleaned.snapshot).not.toBeNull()
    expect(cleaned.snapshot.restore).toMatch(new RegExp(`^makima checkpoint restore ${task.shortId} 1 `))
    expect(existsSync(wt)).toBe(false)
    const [snapshot] = await w.json(['checkpoint', 'list', task.id])
    expect(snapshot).toMatchObject({kind: 'snapshot', number: 1, hasPatch: true, ref: `refs/makima/checkpoints/${task.id}/1`})

    const restored = await w.json(['checkpoint', 'restore', task.shortId, '1', '~/restored'])
    expect(restored).toMatchObject({method: 'patch', targetDir: join(w.t.home, 'restored'), headSha: w.repo.head})
    expect(treeDifferences(before, treeBytes(restored.targetDir, SKIP))).toEqual([])

    // A non-empty target is refused and left alone; an unknown checkpoint is not found.
    const again = await w.makima(['checkpoint', 'restore', task.shortId, '1', '~/restored'])
    expect(again.code).toBe(4)
    expect(again.stderr).toMatch(/not empty/)
    expect(treeDifferences(before, treeBytes(restored.targetDir, SKIP))).toEqual([])
    expect((await w.makima(['checkpoint', 'restore', task.shortId, '9', join(w.t.root, 'nine')])).code).toBe(3)
    expect(existsSync(join(w.t.root, 'nine'))).toBe(false)

    // No worktree: checkpoint refuses (4); diff shows the branch plus the final snapshot.
    const cp = await w.makima(['checkpoint', task.shortId])
    expect(cp.code).toBe(4)
    expect(cp.stderr).toMatch(/is gone \(cleaned up\)/)
    const diff = await w.makima(['task', 'diff', task.shortId])
    expect(diff.code, diff.stderr).toBe(0)
    expect(diff.stderr).toMatch(/cleaned up: showing .* with the uncommitted work of snapshot 1/)
    expect(diff.stdout).toMatch(/^diff --git a\/notes\.txt b\/notes\.txt\nnew file mode 100644\n/m)
    expect(diff.stdout).toMatch(/^\+changed$/m)

    // History expires: the task, its checkpoints and its side refs go (the restored worktree stays).
    expect(w.repo.git('for-each-ref', `refs/makima/checkpoints/${task.id}`)).not.toBe('')
    expect((await w.makima(['config', 'set', 'history.retentionDays', '0'])).code).toBe(0)
    expect((await w.makima(['task', 'create', '--repo', w.repo.dir, 'a new task purges the old'])).code).toBe(0)
    expect(w.repo.git('for-each-ref', `refs/makima/checkpoints/${task.id}`)).toBe('')
    expect((await w.makima(['task', 'show', task.id])).code).toBe(3)
    expect(treeDifferences(before, treeBytes(restored.targetDir, SKIP))).toEqual([])
  }, 120_000)
})
