// Hard limits of a task (issue 19), through the built CLI against the REAL claude and a scripted
// API that never stops asking for tools: --max-turns (counted by makima from the stream),
// --timeout (wall time of all runs) and --max-cost (Claude Code's --max-budget-usd for what is
// left, and makima's own check of the stored cost). Each trips within one turn of its value,
// fails the task with an error naming the limit, keeps the worktree and a snapshot, and leaves no
// process of the task behind; `task send` resumes such a task only with new limits.
import {existsSync} from 'node:fs'
import {describe, expect, test} from 'vitest'

import {useCleanup} from '../support/cli.js'
import {byPrompt, type ScriptContext, type Script} from '../support/scripted-api.js'
import {describeTaskProcesses, taskWorld, type TaskWorld} from '../support/task-helpers.js'

useCleanup()

/** A plan the scripted model never finishes: one Bash tool call per turn, each adding a line to steps.txt. */
const LOOP = 'loop until stopped'
const loop: Script = (ctx) => ({bash: `echo step ${ctx.turn} >> steps.txt`})
const SLEEPY: Record<string, Script> = {'sleep a while': (ctx) => (ctx.toolResults.length ? {text: 'slept'} : {bash: 'echo started > started.txt; sleep 60'})}
const script = byPrompt({[LOOP]: loop, 'go on please': {text: 'went on'}, ...SLEEPY})

/** API calls of the looping conversation (one per turn Claude Code asked for). */
const loopCalls = (w: TaskWorld) => w.api.calls.filter((c: ScriptContext) => c.firstUserText.includes(LOOP)).length

async function expectNoProcessLeft(taskId: string): Promise<void> {
  const deadline = Date.now() + 5000
  while (describeTaskProcesses(taskId).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  expect(describeTaskProcesses(taskId)).toEqual([])
}

async function expectLimitSnapshot(w: TaskWorld, taskId: string): Promise<void> {
  const checkpoints = await w.json(['checkpoint', 'list', taskId])
  expect(checkpoints).toEqual([expect.objectContaining({kind: 'snapshot', message: 'limit snapshot', hasPatch: true})])
}

describe('limits that stop the run', () => {
  test('--max-turns 3: stops at the third turn that asks for a tool; failed, no process left, worktree and snapshot kept', async () => {
    const w = await taskWorld(script)
    const r = await w.makima(['task', 'spawn', '--json', '--max-turns', '3', '--repo', w.repo.dir, LOOP])
    expect(r.code, r.stderr).toBe(1)
    const task = JSON.parse(r.stdout)
    expect(task).toMatchObject({state: 'failed', failureKind: 'limit', error: 'limit reached: 3 turns (max 3)', limits: {maxTurns: 3, timeoutSecs: null, maxCostUsd: null}})
    expect(task.usage.turns).toBe(3)
    // Claude Code was asked to stop its turn before its processes were ended: its result line told the run's cost
    expect(task.usage.costUsd).toBeGreaterThan(0)
    // within one turn of the limit: Claude Code may have asked for a fourth turn before it was stopped, never a fifth
    expect(loopCalls(w)).toBeGreaterThanOrEqual(3)
    expect(loopCalls(w)).toBeLessThanOrEqual(4)
    await expectNoProcessLeft(task.id)
    expect(existsSync(task.worktreePath)).toBe(true)
    await expectLimitSnapshot(w, task.id)
    expect(r.stderr).toContain(`to go on, give it new limits: makima task send ${task.shortId} --max-turns 6 "..."`)
  })

  test('--timeout 3s: a Bash tool sleeping 60 s is stopped at 3 s of wall time with every process it started', async () => {
    const w = await taskWorld(script)
    const started = Date.now()
    const r = await w.makima(['task', 'spawn', '--json', '--timeout', '3s', '--repo', w.repo.dir, 'sleep a while'])
    const took = Date.now() - started
    expect(r.code, r.stderr).toBe(1)
    const task = JSON.parse(r.stdout)
    expect(task).toMatchObject({state: 'failed', failureKind: 'limit', error: 'limit reached: 3s wall time', limits: {timeoutSecs: 3}})
    expect(task.usage.durationMs).toBeGreaterThanOrEqual(3000)
    expect(task.usage.durationMs).toBeLessThan(6000)
    expect(task.usage.costUsd).toBeGreaterThan(0)
    expect(took).toBeLessThan(15_000)
    await expectNoProcessLeft(task.id)
    await expectLimitSnapshot(w, task.id)
  })

  test('--timeout counts every run: a follow-up is stopped when the runs together reach it', async () => {
    const w = await taskWorld(byPrompt({'first a short nap': (ctx) => (ctx.toolResults.length ? {text: 'napped'} : {bash: 'sleep 2.5'}), ...SLEEPY}))
    // 12 s: room for the first run (claude's start-up, two turns, the nap) on a loaded machine
    const first = await w.makima(['task', 'spawn', '--json', '--timeout', '12s', '--repo', w.repo.dir, 'first a short nap'])
    expect(first.code, first.stderr).toBe(0)
    const task = JSON.parse(first.stdout)
    expect(task.usage.durationMs).toBeGreaterThan(2500)
    const sent = await w.makima(['task', 'send', task.id, 'sleep a while'])
    expect(sent.code, sent.stderr).toBe(0)
    const wait = await w.makima(['task', 'wait', '--json', task.id])
    expect(wait.code).toBe(1)
    const done = JSON.parse(wait.stdout)
    expect(done).toMatchObject({state: 'failed', failureKind: 'limit', error: 'limit reached: 12s wall time', usage: {runs: 2}})
    // the limit trips at 12 s; the run's wall time also holds the moments its processes took to end
    expect(done.usage.durationMs).toBeGreaterThanOrEqual(12_000)
    expect(done.usage.durationMs).toBeLessThan(15_000)
    await expectNoProcessLeft(task.id)
  })

  test('--max-cost: Claude Code stops at the budget makima gave it; send without new limits is refused (exit 4), with --max-cost it resumes', async () => {
    const w = await taskWorld(script)
    const r = await w.makima(['task', 'spawn', '--json', '--max-cost', '0.0001', '--repo', w.repo.dir, LOOP])
    expect(r.code, r.stderr).toBe(1)
    const task = JSON.parse(r.stdout)
    expect(task).toMatchObject({state: 'failed', failureKind: 'limit', limits: {maxCostUsd: 0.0001}})
    expect(task.error).toMatch(/^limit reached: \$0\.0001\d* cost \(max \$0\.0001\)$/)
    // a scripted turn costs $0.000024 in 2.1.332 ($0.00003 in 2.1.197): it stopped at the first turn
    // past the budget
    expect(task.usage.costUsd).toBeGreaterThanOrEqual(0.0001)
    expect(task.usage.costUsd).toBeLessThan(0.0001 + 0.00003 + 1e-9)
    expect(loopCalls(w)).toBe(task.usage.turns)
    await expectNoProcessLeft(task.id)

    const refused = await w.makima(['task', 'send', task.id, 'go on please'])
    expect(refused.code).toBe(4)
    expect(refused.stderr).toMatch(
      new RegExp(
        `^Error: task ${task.shortId} stopped at a limit \\(limit reached: .* cost \\(max \\$0\\.0001\\)\\): resume it with new limits, e.g. makima task send ${task.shortId} --max-cost 0\\.000\\d+ "\\.\\.\\."\\n$`,
      ),
    )
    const tooLow = await w.makima(['task', 'send', '--max-cost', '0.0001', task.id, 'go on please'])
    expect(tooLow.code).toBe(4)
    expect(tooLow.stderr).toContain('the limits given do not leave room for more')

    const resumed = await w.makima(['task', 'send', '--max-cost', '1', task.id, 'go on please'])
    expect(resumed.code, resumed.stderr).toBe(0)
    const wait = await w.makima(['task', 'wait', '--json', task.id])
    expect(wait.code, wait.stderr).toBe(0)
    const done = JSON.parse(wait.stdout)
    expect(done).toMatchObject({state: 'completed', error: null, failureKind: null, limits: {maxCostUsd: 1}})
    expect(done.usage.runs).toBe(2)
  })

  test('--max-cost between runs: an autonomous loop does not start another run once the stored cost reached it', async () => {
    const gate = '<COMPLETION_GATE>\n{"ready": false, "reason": "more to do", "blockers": ["more"]}\n</COMPLETION_GATE>'
    const w = await taskWorld(() => ({text: `Not done yet.\n${gate}`}))
    const r = await w.makima(['task', 'spawn', '--json', '--autonomous', '--max-cost', '0.00001', '--repo', w.repo.dir, 'an endless job'])
    expect(r.code, r.stderr).toBe(1)
    const task = JSON.parse(r.stdout)
    // the one turn of run 1 ended normally (Claude Code checks its budget only before another turn)
    expect(task).toMatchObject({state: 'failed', failureKind: 'limit', usage: {runs: 1, turns: 1}})
    expect(task.error).toMatch(/^limit reached: \$0\.0000\d+ cost \(max \$0\.00001\)$/)
    expect(w.api.calls).toHaveLength(1)
  })
})

describe('limit flags and defaults', () => {
  test('bad values: exit 2 naming the value', async () => {
    const w = await taskWorld(loop)
    for (const [flag, value, says] of [
      ['--timeout', '5x', '--timeout "5x" is not a duration'],
      ['--timeout', '0s', '--timeout "0s" is not a duration'],
      ['--max-turns', '0', '--max-turns "0" is not a whole number of turns'],
      ['--max-turns', '2.5', '--max-turns "2.5" is not a whole number of turns'],
      ['--max-cost', 'abc', '--max-cost "abc" is not an amount of US dollars'],
      ['--max-cost', '-1', '--max-cost "-1" is not an amount of US dollars'],
    ]) {
      const r = await w.makima(['task', 'spawn', flag, value, '--repo', w.repo.dir, LOOP])
      expect(r.code, `${flag} ${value}: ${r.stderr}`).toBe(2)
      expect(r.stderr).toContain(says)
    }
    const send = await w.makima(['task', 'send', '--timeout', '5x', '0000', 'hi'])
    expect(send.code).toBe(2)
    expect(send.stderr).toContain('--timeout "5x" is not a duration')
    expect(await w.json(['task', 'list', '--all'])).toEqual([])
    expect(w.api.calls).toEqual([])
  })

  test('config limits.* are the defaults (0 = none); flags win; durations 90s, 30m, 2h, 1h30m', async () => {
    const w = await taskWorld(loop)
    for (const [key, value] of [
      ['limits.maxTurns', '40'],
      ['limits.maxCostUsd', '2.5'],
      ['limits.timeoutSecs', '0'],
    ]) {
      const set = await w.makima(['config', 'set', key, value])
      expect(set.code, set.stderr).toBe(0)
    }
    const create = async (...flags: string[]) => (await w.json(['task', 'show', (await w.json(['task', 'create', ...flags, LOOP])).taskId])).limits
    expect(await create()).toEqual({timeoutSecs: null, maxTurns: 40, maxCostUsd: 2.5})
    expect(await create('--timeout', '90s', '--max-turns', '7')).toEqual({timeoutSecs: 90, maxTurns: 7, maxCostUsd: 2.5})
    expect((await create('--timeout', '30m')).timeoutSecs).toBe(1800)
    expect((await create('--timeout', '2h')).timeoutSecs).toBe(7200)
    expect((await create('--timeout', '1h30m', '--max-cost', '$0.50')).maxCostUsd).toBe(0.5)
    const bad = await w.makima(['config', 'set', 'limits.maxTurns', '-1'])
    expect(bad.code).toBe(2)
  })
})
