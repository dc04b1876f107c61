// How a run ends, on BOTH Claude Code versions makima is tested with (test/support/env.ts
// CLAUDE_VERSIONS: the pinned newest and the npm alias of the oldest), through the built CLI
// against the real CLI and the scripted API: a task that completes, one that is interrupted, and
// API errors (500, a 429 rate limit) read from the `result` line. These read what Claude Code
// prints (result lines whose field order changed between the two, the init line, the transcript),
// so they run twice; the rest of the suite runs the pinned one. Usage: task-usage.test.ts; a 401:
// auth.test.ts; the parser on recorded lines of both: test/unit/stream-event.test.ts.
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {CLAUDE_VERSIONS} from '../support/env.js'
import {waitFor} from '../support/processes.js'
import {steps} from '../support/scripted-api.js'
import {describeTaskProcesses, taskWorld, useTaskCleanup} from '../support/task-helpers.js'

useTaskCleanup()

describe.each(CLAUDE_VERSIONS)('Claude Code $label', ({label, bin}) => {
  const claude = {MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: bin}

  test('a task that completes: transcript, session, result, the version of its run', async () => {
    const w = await taskWorld(steps({bash: 'echo from-the-task > made.txt'}, {text: 'Wrote made.txt for you.'}), claude)
    const r = await w.makima(['task', 'spawn', '--repo', w.repo.dir, 'write a file please'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('echo from-the-task > made.txt')
    expect(r.stdout).toContain('Wrote made.txt for you.')
    const [listed] = await w.json(['task', 'list', '--all'])
    const task = await w.json(['task', 'show', listed.id])
    expect(task).toMatchObject({state: 'completed', exitCode: 0, error: null, failureKind: null})
    expect(task.sessionId).toMatch(/^[0-9a-f-]{36}$/)
    expect(task.usage).toMatchObject({runs: 1, turns: 2, inputTokens: 2, outputTokens: 2})
    expect(task.usage.costUsd).toBeGreaterThan(0)
    expect(readFileSync(join(task.worktreePath, 'made.txt'), 'utf8')).toBe('from-the-task\n')
    const show = await w.makima(['task', 'show', task.id])
    expect(show.stdout).toMatch(new RegExp(`^ {2}#1 start +2 turns .*claude ${label.replaceAll('.', '\\.')}$`, 'm'))
    const logs = await w.makima(['task', 'logs', task.id])
    expect(logs.stdout).toContain('Wrote made.txt for you.')
  })

  test('an interrupted task ends interrupted with no process left, and what its run cost is kept', async () => {
    const w = await taskWorld(steps({bash: 'echo tick >> ticks.txt; sleep 300'}, {text: 'never reached'}), claude)
    const {taskId} = await w.json(['task', 'spawn', '--repo', w.repo.dir, '--detach', 'run forever'])
    await waitFor(() => describeTaskProcesses(taskId).some((p) => p.cmd === 'sleep 300'), {timeoutMs: 60_000, description: `task ${taskId} running "sleep 300"`})
    const r = await w.makima(['task', 'interrupt', taskId])
    expect(r.code, r.stderr).toBe(0)
    expect(describeTaskProcesses(taskId)).toEqual([])
    const task = await w.json(['task', 'show', taskId])
    expect(task).toMatchObject({state: 'interrupted', pid: null})
    // the turn was asked to stop before claude was ended, so it reported its cost (a SIGTERMed 2.1.197 prints no result)
    expect(task.usage.runs).toBe(1)
    expect(task.usage.costUsd).toBeGreaterThan(0)
  }, 120_000)

  test.each([
    [500, 'scripted overload xyzzy'],
    [429, 'scripted rate limit: too many requests'],
  ])('an API %i (no retries) fails the task with the error text and the status', async (status, error) => {
    const w = await taskWorld(() => ({status, error}), {...claude, CLAUDE_CODE_MAX_RETRIES: '0'})
    const r = await w.makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'doomed plan'])
    expect(r.code).toBe(1)
    const task = JSON.parse(r.stdout)
    expect(task).toMatchObject({state: 'failed', failureKind: null})
    expect(task.error).toContain(error)
    expect(task.error).toMatch(new RegExp(`\\(API ${status}\\)$`))
  })
})
