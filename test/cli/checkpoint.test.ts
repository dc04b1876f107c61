// `makima checkpoint` (a real commit on the task branch) and `checkpoint list`, through the built
// CLI, on a task that the REAL claude ran against a scripted API, in a real git repository.
import {writeFileSync, renameSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {useCleanup} from '../support/cli.js'
import {checkpointWorld} from '../support/checkpoint-world.js'
import {steps} from '../support/scripted-api.js'

useCleanup()

const byPath = (a: {path: string}, b: {path: string}) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)

describe('makima checkpoint', () => {
  test('commits every change (tracked, untracked, deleted; not ignored) as one commit on the task branch', async () => {
    const w = await checkpointWorld(
      steps({bash: "printf 'more\\n' >> README.md && mkdir -p src && printf 'one\\ntwo\\nthree\\n' > src/new.txt && rm old.txt && echo noise > debug.log"}, {text: 'Edited the files.'}),
      {files: {'README.md': '# test repo\n', 'old.txt': 'a\nb\n', '.gitignore': '*.log\n'}},
    )
    const task = await w.json(['task', 'spawn', '--repo', w.repo.dir, 'edit some files'])
    expect(task.state).toBe('completed')
    const wt = task.worktreePath as string

    const r = await w.makima(['checkpoint', task.shortId, '-m', 'first checkpoint', '--json'])
    expect(r.code, r.stderr).toBe(0)
    const cp = JSON.parse(r.stdout)
    expect(Object.keys(cp).sort()).toEqual(['branchName', 'checkpointNumber', 'commitSha', 'filesChanged', 'linesAdded', 'linesRemoved', 'message', 'success'])
    expect(cp).toMatchObject({success: true, branchName: task.branch, checkpointNumber: 1, linesAdded: 4, linesRemoved: 2, message: 'first checkpoint'})
    expect([...cp.filesChanged].sort(byPath)).toEqual([
      {action: 'modified', path: 'README.md'},
      {action: 'deleted', path: 'old.txt'},
      {action: 'added', path: 'src/new.txt'},
    ])
    // The task branch gained exactly that commit, with that message, on top of the base.
    expect(w.repo.git('rev-parse', task.branch)).toBe(cp.commitSha)
    expect(w.repo.git('log', '--format=%H', task.branch).split('\n')).toEqual([cp.commitSha, w.repo.head])
    expect(w.repo.git('log', '-1', '--format=%s', cp.commitSha)).toBe('first checkpoint')
    expect(w.repo.git('show', '--format=', '--name-only', cp.commitSha).split('\n').sort()).toEqual(['README.md', 'old.txt', 'src/new.txt'])
    // The ignored file stays out of the commit and in the worktree; nothing else is left over.
    expect(w.git(wt, 'status', '--porcelain', '--untracked-files=all', '--ignored')).toBe('!! debug.log')

    // Nothing to commit now: success false, exit 1, one JSON value.
    const again = await w.makima(['checkpoint', task.shortId, '--json'])
    expect(again.code).toBe(1)
    const nothing = JSON.parse(again.stdout)
    expect(nothing.success).toBe(false)
    expect(nothing.message).toMatch(/^nothing to commit/)
    const plain = await w.makima(['checkpoint', task.shortId])
    expect(plain.code).toBe(1)
    expect(plain.stderr).toMatch(/nothing to commit/)
    expect(w.repo.git('rev-parse', task.branch)).toBe(cp.commitSha)

    // A rename and a new file: checkpoint 2, default message, renamed action.
    renameSync(join(wt, 'src/new.txt'), join(wt, 'src/renamed.txt'))
    writeFileSync(join(wt, 'second.txt'), 'x\ny\n')
    const cp2 = await w.json(['checkpoint', task.id])
    expect(cp2).toMatchObject({success: true, checkpointNumber: 2, linesAdded: 2, linesRemoved: 0})
    expect(cp2.message).toContain('checkpoint 2')
    expect([...cp2.filesChanged].sort(byPath)).toEqual([
      {action: 'added', path: 'second.txt'},
      {action: 'renamed', path: 'src/renamed.txt'},
    ])
    expect(w.repo.git('log', '--format=%H', task.branch).split('\n')).toEqual([cp2.commitSha, cp.commitSha, w.repo.head])

    const list = await w.json(['checkpoint', 'list', task.shortId])
    expect(list.map((c: any) => [c.kind, c.number, c.commitSha, c.filesCount, c.message])).toEqual([
      ['commit', 1, cp.commitSha, 3, 'first checkpoint'],
      ['commit', 2, cp2.commitSha, 2, cp2.message],
    ])
    const table = await w.makima(['checkpoint', 'list', task.shortId])
    expect(table.code).toBe(0)
    expect(table.stdout).toContain(cp2.commitSha.slice(0, 8))
  }, 120_000)

  test('a task without a worktree is refused with exit 4 naming why', async () => {
    const w = await checkpointWorld(steps({text: 'nothing to do'}))
    const pending = (await w.makima(['task', 'create', '--repo', w.repo.dir, 'later'])).stdout.trim()
    const noRepo = (await w.makima(['task', 'create', 'no repository here'])).stdout.trim()
    for (const [id, why] of [
      [pending, /pending and has no worktree yet/],
      [noRepo, /has no repository/],
    ] as const) {
      for (const args of [
        ['checkpoint', id],
        ['task', 'diff', id],
      ]) {
        const r = await w.makima(args)
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(4)
        expect(r.stderr).toMatch(why)
        expect(r.stderr.split('\n').filter((l) => l.startsWith('Error:'))).toHaveLength(1)
      }
    }
    const json = await w.makima(['checkpoint', pending, '--json'])
    expect(json.code).toBe(4)
    expect(JSON.parse(json.stdout).error.code).toBe('INVALID_STATE')
    expect((await w.makima(['checkpoint', 'ffffffff'])).code).toBe(3)
    expect(await w.json(['checkpoint', 'list', pending])).toEqual([])
  }, 120_000)
})
