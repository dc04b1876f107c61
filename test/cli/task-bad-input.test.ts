// Bad input and state conflicts, as a user or a script sees them: the exit code of docs/cli.md,
// exactly one `Error:` line that names the bad value, and nothing recorded in the store.
import {mkdirSync, readdirSync, existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {describe, expect, test} from 'vitest'

import {waitFor} from '../support/processes.js'
import {steps} from '../support/scripted-api.js'
import {errorLines, storedTasks, taskPids, taskWorld, useTaskCleanup, type CliResult, type TaskWorld} from '../support/task-helpers.js'

useTaskCleanup()

/** Exit `code` with one `Error:` line on stderr that contains every one of `values`. */
function expectError(r: CliResult, code: number, ...values: (string | RegExp)[]): string {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(code)
  const lines = errorLines(r.stderr)
  expect(lines, r.stderr).toHaveLength(1)
  for (const value of values) {
    if (typeof value === 'string') expect(lines[0]).toContain(value)
    else expect(lines[0]).toMatch(value)
  }
  return lines[0]
}

async function expectNothingRecorded(w: TaskWorld): Promise<void> {
  expect(await w.json(['task', 'list', '--all'])).toEqual([])
  const worktrees = join(w.t.makimaHome, 'worktrees')
  expect(existsSync(worktrees) ? readdirSync(worktrees) : []).toEqual([])
}

const unused = () => steps({text: 'the API should not have been asked'})

describe('bad input: exit 2 or 3, one Error line naming the value, nothing recorded', () => {
  test('a --repo path that does not exist, or is not a git repository', async () => {
    const w = await taskWorld(unused())
    const missing = join(w.t.root, 'no-such-dir')
    const plain = join(w.t.root, 'just-a-dir')
    mkdirSync(plain)
    const [a, b, c] = await Promise.all([
      w.makima(['task', 'spawn', '--repo', missing, 'do it']),
      w.makima(['task', 'spawn', '--repo', plain, 'do it']),
      w.makima(['task', 'create', '--repo', missing, 'do it']),
    ])
    expectError(a, 2, missing, /does not exist/)
    expectError(b, 2, plain, /not a git repository/)
    expectError(c, 2, missing)
    expectError(await w.makima(['task', 'spawn', '--detach', '--repo', plain, 'do it']), 2, plain)
    await expectNothingRecorded(w)
    expect(w.api.messageRequests()).toHaveLength(0)
  })

  test('an unknown task id exits 3; a prefix shorter than 4 hex chars exits 2', async () => {
    const w = await taskWorld(unused())
    const results = await Promise.all(['show', 'pause', 'logs'].map((verb) => w.makima(['task', verb, 'ffffffff'])))
    for (const r of results) expectError(r, 3, '"ffffffff"')
    expectError(await w.makima(['task', 'show', 'ab']), 2, '"ab"', /4/)
    const json = await w.makima(['task', 'show', 'ffffffff', '--json'])
    expect(json.code).toBe(3)
    expect(JSON.parse(json.stdout)).toEqual({error: {code: expect.any(String), message: expect.stringContaining('ffffffff')}})
  })

  test('an ambiguous prefix exits 2 and names the tasks it matches; a longer one resolves', async () => {
    const w = await taskWorld(unused())
    const first = (await w.makima(['task', 'create', '--repo', w.repo.dir, 'first'])).stdout.trim()
    const second = (await w.makima(['task', 'create', '--repo', w.repo.dir, 'second'])).stdout.trim()
    expect(first).toMatch(/^[0-9a-f-]{36}$/)
    // Two random UUIDs sharing 4 hex chars would take hundreds of tasks: give the second pending
    // task (nothing refers to it yet) the first one's 4-char prefix, directly in the database.
    const prefix = first.slice(0, 4)
    const twin = prefix + second.slice(4)
    const db = new Database(join(w.t.makimaHome, 'makima.db'))
    try {
      db.prepare('UPDATE tasks SET id = ?, short_id = ? WHERE id = ?').run(twin, twin.slice(0, 8), second)
    } finally {
      db.close()
    }
    expectError(await w.makima(['task', 'show', prefix]), 2, `"${prefix}"`, /ambiguous/, first.slice(0, 8), twin.slice(0, 8))
    expect((await w.json(['task', 'show', first.slice(0, 8)])).id).toBe(first)
  })

  test('an empty plan, as an argument or on stdin', async () => {
    const w = await taskWorld(unused())
    const [arg, blank, stdin] = await Promise.all([
      w.makima(['task', 'spawn', '--repo', w.repo.dir, '']),
      w.makima(['task', 'create', '--repo', w.repo.dir, '  \n ']),
      w.makima(['task', 'spawn', '--repo', w.repo.dir, '--detach', '-'], {input: '\n'}),
    ])
    expectError(arg, 2, /plan is empty/)
    expectError(blank, 2, /plan is empty/)
    expectError(stdin, 2, /plan read from stdin is empty/)
    await expectNothingRecorded(w)
  })

  test('process.claudeCommand naming a missing binary: exit 2 saying how to fix it', async () => {
    const w = await taskWorld(unused(), {MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: '/nonexistent/claude'})
    const results = await Promise.all([[], ['--detach']].map((extra) => w.makima(['task', 'spawn', ...extra, '--repo', w.repo.dir, 'do it'])))
    for (const r of results) {
      const line = expectError(r, 2, '/nonexistent/claude')
      expect(line).toMatch(/install/)
      expect(line).toContain('process.claudeCommand')
    }
    await expectNothingRecorded(w)
  })

  test('"@" and "HEAD" are not branch names (the rule of the daemon too): --base-branch / --target-branch exit 2', async () => {
    const w = await taskWorld(unused())
    const create = (...flags: string[]) => w.makima(['task', 'create', '--repo', w.repo.dir, ...flags, 'do it'])
    const [base, target, head, long] = await Promise.all([
      create('--base-branch', '@'),
      create('--completion-action', 'merge', '--target-branch', '@'),
      create('--base-branch', 'HEAD'),
      create('--base-branch', 'b'.repeat(256)),
    ])
    expectError(base, 2, 'invalid base branch "@"', /names the current commit, not a branch/)
    expectError(target, 2, 'invalid target branch "@"')
    expectError(head, 2, 'invalid base branch "HEAD"')
    expectError(long, 2, /invalid base branch "b+"… \(256 characters\): it is longer than 255 bytes/)
    await expectNothingRecorded(w)
  })

  test('a corrupt config.json: exit 2 naming the file', async () => {
    const w = await taskWorld(unused())
    const file = join(w.t.makimaHome, 'config.json')
    writeFileSync(file, '{nope')
    expectError(await w.makima(['task', 'list']), 2, file)
    writeFileSync(file, '{}')
    expect(await w.json(['task', 'list', '--all'])).toEqual([])
  })
})

describe('conflicts with the current state: exit 4', () => {
  test('a completed task cannot be paused, resumed or interrupted', async () => {
    const w = await taskWorld(steps({text: 'finished at once'}))
    const spawned = await w.makima(['task', 'spawn', '--repo', w.repo.dir, '--json', 'finish at once'])
    expect(spawned.code, spawned.stderr).toBe(0)
    const task = JSON.parse(spawned.stdout)
    expect(task.state).toBe('completed')
    const results = await Promise.all(['pause', 'resume', 'interrupt'].map((verb) => w.makima(['task', verb, task.id])))
    for (const r of results) expectError(r, 4, task.shortId, /completed/)
    const after = await w.json(['task', 'show', task.id])
    expect(after).toMatchObject({state: 'completed', error: null, completedAt: task.completedAt})
  }, 120_000)

  test('a full cap: spawn exits 4 (with --json an error object on stdout), task start too; nothing recorded', async () => {
    const w = await taskWorld(steps({hang: true}), {MAKIMA_DAEMON_PROCESS_MAXCONCURRENTTASKS: '1'})
    const {taskId} = await w.json(['task', 'spawn', '--repo', w.repo.dir, '--detach', 'hold the only slot'])
    await waitFor(() => storedTasks(w).some((t) => t.id === taskId && t.state === 'running'), {timeoutMs: 30_000})
    const pending = (await w.makima(['task', 'create', '--repo', w.repo.dir, 'wait for a slot'])).stdout.trim()

    const [full, detached, start] = await Promise.all([
      w.makima(['task', 'spawn', '--repo', w.repo.dir, '--json', 'one too many']),
      w.makima(['task', 'spawn', '--repo', w.repo.dir, '--detach', 'one too many']),
      w.makima(['task', 'start', pending]),
    ])
    expectError(full, 4, /concurren/i, /1/)
    const out = JSON.parse(full.stdout)
    expect(Object.keys(out)).toEqual(['error'])
    expect(out.error).toEqual({code: expect.stringMatching(/CONCURRENCY/), message: expect.stringMatching(/concurren/i)})
    expectError(detached, 4, /concurren/i)
    expectError(start, 4, /concurren/i)

    const list = await w.json(['task', 'list', '--all'])
    expect(list.map((t: any) => [t.id, t.state])).toEqual([
      [taskId, 'running'],
      [pending, 'pending'],
    ])
    const stopped = await w.makima(['task', 'interrupt', taskId])
    expect(stopped.code, stopped.stderr).toBe(0)
    expect(taskPids(taskId)).toEqual([])
  }, 120_000)
})

test('a claude that exits non-zero: the task fails (exit 1) with its complaint', async () => {
  const w = await taskWorld(unused())
  writeFileSync(join(w.t.makimaHome, 'config.json'), JSON.stringify({process: {claudeArgs: ['--definitely-not-a-flag']}}))
  const r = await w.makima(['task', 'spawn', '--repo', w.repo.dir, '--json', 'do it'])
  expect(r.code, r.stderr).toBe(1)
  const task = JSON.parse(r.stdout)
  expect(task.state).toBe('failed')
  expect(task.error).toContain("unknown option '--definitely-not-a-flag'")
  expect(task.exitCode).toBe(1)
  expect(errorLines(r.stderr).length).toBeLessThanOrEqual(1)
  expect((await w.json(['task', 'show', task.id])).state).toBe('failed')
  expect(w.api.messageRequests()).toHaveLength(0)
}, 120_000)
