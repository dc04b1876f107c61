// Disk policy (issue 13 §2): each worktree's disk use in `task list --size` and `task show`, and
// history.maxWorktreeBytes: when the ended tasks' worktrees together pass it, the oldest go at the
// next task's end, their uncommitted work kept as a snapshot first; the task that just ended stays.
import {execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {describe, expect, test} from 'vitest'

import {useCleanup} from '../support/cli.js'
import {byPrompt, steps} from '../support/scripted-api.js'
import {taskWorld} from '../support/task-helpers.js'

useCleanup()

describe('worktree disk use', () => {
  test('reported per task; past history.maxWorktreeBytes the oldest ended worktree goes (after a snapshot), the newest stays', async () => {
    const write = (name: string) => steps({bash: `head -c 200000 /dev/urandom > ${name}.bin && echo wrote-${name}`}, {text: `${name} written`})
    const w = await taskWorld(byPrompt({'first task': write('first'), 'second task': write('second')}), {MAKIMA_DAEMON_HISTORY_MAXWORKTREEBYTES: '300000'})
    const first = await w.json(['task', 'spawn', '--repo', w.repo.dir, 'first task'])
    expect(first.state).toBe('completed')
    const shown = await w.json(['task', 'show', first.id])
    expect(shown.worktreeBytes).toBeGreaterThanOrEqual(200_000)
    const listed = await w.json(['task', 'list', '--all', '--size'])
    expect(listed[0]).toMatchObject({id: first.id, worktreeBytes: shown.worktreeBytes})
    const table = await w.makima(['task', 'list', '--all', '--size'])
    expect(table.stdout).toMatch(/SIZE/)
    expect(table.stdout).toMatch(/\d+\.\d KiB/)

    const second = await w.json(['task', 'spawn', '--repo', w.repo.dir, 'second task'])
    expect(second.state).toBe('completed')
    expect(existsSync(second.worktreePath)).toBe(true) // the task that just ended stays
    expect(existsSync(first.worktreePath)).toBe(false) // the oldest went...
    const refs = execFileSync('git', ['for-each-ref', '--format=%(refname)', `refs/makima/checkpoints/${first.id}/`], {cwd: w.repo.dir, encoding: 'utf8'})
    expect(refs.trim()).not.toBe('') // ...after its uncommitted work was kept as a snapshot
    const logs = await w.makima(['task', 'logs', second.id])
    expect(logs.stdout).toContain('history.maxWorktreeBytes (293.0 KiB)')
    expect(logs.stdout).toMatch(new RegExp(`removed the worktree of ended task ${first.shortId} \\(\\d+\\.\\d KiB\\); its uncommitted work is snapshot refs/makima/checkpoints/`))
    expect((await w.json(['task', 'show', first.id])).worktreeBytes).toBeNull()
  })
})
