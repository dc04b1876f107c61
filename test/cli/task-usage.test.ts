// Usage of every task (issue 19), through the built CLI against the REAL claude and a scripted API,
// on both behaviours of Claude Code's total_cost_usd: 2.1.332 (the pinned devDependency; a total of
// the session, carried over when a follow-up resumes it) and 2.1.197 (the npm alias devDependency
// claude-code-2-1-197; a total of the process). A task and a follow-up through `task send`:
// each run's own cost and the task's total are right in both, never a sum of running totals.
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {describe, expect, test} from 'vitest'

import {useCleanup} from '../support/cli.js'
import {CLAUDE_2_1_197, PINNED_CLAUDE} from '../support/env.js'
import {byPrompt, steps} from '../support/scripted-api.js'
import {taskWorld, type TaskWorld} from '../support/task-helpers.js'

useCleanup()

/** The result lines the store recorded for a task, per claude process (split at each system/init). */
function resultsPerProcess(w: TaskWorld, taskId: string): {version: string; totals: number[]}[] {
  const db = new Database(join(w.t.makimaHome, 'makima.db'), {readonly: true})
  try {
    const lines = (db.prepare(`SELECT line FROM output WHERE task_id = ? AND stream = 'stdout' ORDER BY seq`).all(taskId) as {line: string}[]).map((r) => JSON.parse(r.line))
    const out: {version: string; totals: number[]}[] = []
    for (const e of lines) {
      if (e.type === 'system' && e.subtype === 'init') out.push({version: e.claude_code_version, totals: []})
      if (e.type === 'result') out.at(-1)!.totals.push(e.total_cost_usd)
    }
    return out
  } finally {
    db.close()
  }
}

const VERSIONS = [
  {version: '2.1.332', claude: PINNED_CLAUDE, sessionTotal: true},
  {version: '2.1.197', claude: CLAUDE_2_1_197, sessionTotal: false},
]

describe.each(VERSIONS)('usage with Claude Code $version', ({version, claude, sessionTotal}) => {
  test('a task and a resumed follow-up: per-run and total tokens, cost, turns, wall time; task show, list, usage', async () => {
    const w = await taskWorld(
      byPrompt({
        'count the files': steps({bash: 'ls | wc -l'}, {text: 'There are some files.'}),
        'and now say thanks': {text: 'Thanks!'},
      }),
      {MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: claude},
    )
    const first = await w.makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'count the files'])
    expect(first.code, first.stderr).toBe(0)
    const task = JSON.parse(first.stdout)
    expect(task.usage).toMatchObject({runs: 1, turns: 2, inputTokens: 2, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0, costEstimated: false})
    expect(task.usage.costUsd).toBeGreaterThan(0)
    expect(task.usage.durationMs).toBeGreaterThan(0)
    expect(task.usage.models.length).toBe(1)
    expect(task.limits).toBeNull()

    const sent = await w.makima(['task', 'send', task.id, 'and now say thanks'])
    expect(sent.code, sent.stderr).toBe(0)
    const wait = await w.makima(['task', 'wait', task.id, '--json'])
    expect(wait.code, wait.stderr).toBe(0)
    const done = JSON.parse(wait.stdout)
    expect(done.state).toBe('completed')

    // What Claude Code printed: one process per run, each with one result and its running total.
    const processes = resultsPerProcess(w, task.id)
    expect(processes.map((p) => p.version)).toEqual([version, version])
    const [[total1], [total2]] = processes.map((p) => p.totals)
    // The behaviours differ: the resumed run's total carries the first run's cost over (2.1.277+) or not.
    if (sessionTotal) expect(total2).toBeGreaterThan(total1)
    else expect(total2).toBeLessThan(total1)
    const run2Own = sessionTotal ? total2 - total1 : total2
    expect(done.usage.costUsd).toBeCloseTo(total1 + run2Own, 12)
    expect(done.usage).toMatchObject({runs: 2, turns: 3, inputTokens: 3, outputTokens: 3})
    expect(done.usage.durationMs).toBeGreaterThanOrEqual(task.usage.durationMs)

    // task show: the totals, and one line per run with its own cost
    const show = await w.makima(['task', 'show', task.id])
    expect(show.code, show.stderr).toBe(0)
    expect(show.stdout).toMatch(/^cost +\$0\.\d+$/m)
    expect(show.stdout).toMatch(/^turns +3$/m)
    expect(show.stdout).toMatch(/^wall time +\S+ in 2 runs$/m)
    expect(show.stdout).toMatch(/^tokens +in 3, out 3, cache read 0, cache write 0$/m)
    expect(show.stdout).toMatch(new RegExp(`^  #1 start +2 turns .*claude ${version.replaceAll('.', '\\.')}$`, 'm'))
    expect(show.stdout).toMatch(new RegExp(`^  #2 resume +1 turn .*claude ${version.replaceAll('.', '\\.')}$`, 'm'))

    // task list: a cost column
    const list = await w.makima(['task', 'list', '--all'])
    expect(list.stdout.split('\n')[0]).toMatch(/^ID +STATE +AGE +COST +BRANCH +NAME$/)
    expect(list.stdout).toMatch(new RegExp(`^${task.shortId} +completed +\\S+ +\\$0\\.\\d+ `, 'm'))

    // makima usage: the same totals from the store, by day, repo and task
    const byTask = await w.json(['usage', '--by', 'task'])
    expect(byTask.rows).toHaveLength(1)
    expect(byTask.rows[0]).toMatchObject({key: task.id, tasks: 1, runs: 2, turns: 3})
    expect(byTask.rows[0].costUsd).toBeCloseTo(done.usage.costUsd, 12)
    expect(byTask.total.costUsd).toBeCloseTo(done.usage.costUsd, 12)
    const byRepo = await w.json(['usage', '--by', 'repo', '--since', '1h'])
    expect(byRepo.rows.map((r: {label: string}) => r.label)).toEqual([w.repo.dir])
    const byDay = await w.makima(['usage'])
    expect(byDay.stdout).toMatch(/^DAY +TASKS +RUNS +TURNS +COST /m)
    expect(byDay.stdout).toMatch(/^total +1 +2 +3 +\$0\.\d+ /m)
  })
})

test('an autonomous loop: each --continue run is a run of its own, counted into the task', async () => {
  const gate = (ready: boolean) => `<COMPLETION_GATE>\n${JSON.stringify({ready, reason: ready ? 'done' : 'one more', blockers: ready ? [] : ['more']})}\n</COMPLETION_GATE>`
  const w = await taskWorld((ctx) => {
    const continued = ctx.lastUserText.includes('[makima autonomous loop]')
    if (ctx.toolResults.length === 0) return {bash: continued ? 'echo two > two.txt' : 'echo one > one.txt'}
    return {text: gate(continued)}
  })
  const r = await w.makima(['task', 'spawn', '--autonomous', '--json', '--repo', w.repo.dir, 'write the files'], {timeoutMs: 90_000})
  expect(r.code, r.stderr).toBe(0)
  const task = JSON.parse(r.stdout)
  expect(task.usage).toMatchObject({runs: 2, turns: 4, inputTokens: 4, outputTokens: 4})
  const show = await w.makima(['task', 'show', task.id])
  expect(show.stdout).toMatch(/^ {2}#1 start +2 turns /m)
  expect(show.stdout).toMatch(/^ {2}#2 continue +2 turns /m)
})
