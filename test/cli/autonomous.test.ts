// The autonomous loop (--autonomous) through the built CLI against the REAL claude and a scripted
// Anthropic API: the completion gate decides after each run, a not-ready run is followed by a
// `--continue` run with a continuation prompt quoting the gate, and the circuit breaker stops a
// loop that gets nowhere. Each test has its own API server, MAKIMA_HOME and repository.
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {useCleanup} from '../support/cli.js'
import {recordClaudeArgv} from '../support/claude-recorder.js'
import type {Script, ScriptContext} from '../support/scripted-api.js'
import {taskWorld} from '../support/task-helpers.js'

useCleanup()

/** How makima marks its continuation prompts (src/lib/tasks/autonomous/session.ts CONTINUATION_MARKER). */
const MARKER = '[makima autonomous loop]'
const gate = (ready: boolean, reason: string, blockers: string[] = []) => `<COMPLETION_GATE>\n${JSON.stringify({ready, reason, blockers})}\n</COMPLETION_GATE>`

const isContinuation = (ctx: ScriptContext) => ctx.lastUserText.includes(MARKER)
/** The requests that start a run: the plan or a continuation prompt is the last message (no tool result yet). */
const runStarts = (calls: ScriptContext[]) => calls.filter((c) => c.toolResults.length === 0)

/** The session ids of the `system/init` lines of a task's raw log, one per claude process. */
function initSessions(raw: string): string[] {
  return raw
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === 'system' && e.subtype === 'init')
    .map((e) => e.session_id)
}

describe('task spawn --autonomous', () => {
  test('not ready, then ready: completes after exactly two runs, the second with --continue and the gate quoted', async () => {
    const plan = 'Autonomous plan: write one.txt and two.txt'
    const script: Script = (ctx) => {
      if (!isContinuation(ctx)) {
        if (ctx.toolResults.length === 0) return {bash: 'echo one > one.txt'}
        return {text: `Wrote one.txt.\n${gate(false, 'two.txt is still missing', ['write two.txt', 'check both files'])}`}
      }
      if (ctx.toolResults.length === 0) return {bash: 'echo two > two.txt'}
      return {text: `Both files are there.\n${gate(true, 'both files written and checked')}`}
    }
    const w = await taskWorld(script)
    const argv = await recordClaudeArgv(w)
    const r = await w.makima(['task', 'spawn', '--autonomous', '--json', '--repo', w.repo.dir, plan], {timeoutMs: 90_000})
    expect(r.code, r.stderr).toBe(0)
    const task = JSON.parse(r.stdout)
    expect(task).toMatchObject({state: 'completed', error: null, exitCode: 0})
    // Run 1 starts fresh, run 2 with --continue (not --resume); both with the gate in the system prompt.
    const runs = argv()
    expect(runs).toHaveLength(2)
    expect(runs[0]).not.toContain('--continue')
    expect(runs[0]).not.toContain('--resume')
    expect(runs[1]).toContain('--continue')
    expect(runs[1]).not.toContain('--resume')
    for (const a of runs) expect(a[a.indexOf('--append-system-prompt') + 1]).toContain('<COMPLETION_GATE>')
    expect(readFileSync(join(task.worktreePath, 'one.txt'), 'utf8')).toBe('one\n')
    expect(readFileSync(join(task.worktreePath, 'two.txt'), 'utf8')).toBe('two\n')

    // Exactly two runs: two claude processes (two init lines), in the same session (--continue).
    const raw = await w.makima(['task', 'logs', '--raw', task.id])
    const sessions = initSessions(raw.stdout)
    expect(sessions).toHaveLength(2)
    expect(sessions[1]).toBe(sessions[0])
    expect(sessions[0]).toBe(task.sessionId)
    const starts = runStarts(w.api.calls)
    expect(starts.map((c) => (isContinuation(c) ? 'continuation' : c.lastUserText))).toEqual([plan, 'continuation'])

    // Run 2's first request carries run 1's conversation (plan, tool call, final text with the gate)
    // and the continuation prompt quoting the reason and the blockers.
    const second = starts[1]
    const history = JSON.stringify(second.body.messages)
    expect(history).toContain(plan)
    expect(history).toContain('echo one > one.txt')
    expect(history).toContain('two.txt is still missing')
    expect(second.lastUserText).toContain('run 2 of at most 10')
    expect(second.lastUserText).toContain('"two.txt is still missing"')
    expect(second.lastUserText).toContain('- "write two.txt"')
    expect(second.lastUserText).toContain('- "check both files"')
    // Both runs got the completion-gate instructions in their system prompt.
    for (const c of starts) expect(c.system).toContain('<COMPLETION_GATE>')

    // Each run is visible in the transcript (stderr with --json) and in the task's log.
    expect(r.stderr).toContain('Autonomous run 1 of at most 10: starting with the plan')
    expect(r.stderr).toContain('Autonomous run 2 of at most 10: continuing because run 1 is not ready: two.txt is still missing (blockers: write two.txt; check both files)')
    expect(r.stderr).toContain('Autonomous run 2 of at most 10: ready: both files written and checked')
    expect(r.stderr).not.toContain('Autonomous run 3')
    const logs = await w.makima(['task', 'logs', task.id])
    expect(logs.stdout).toContain('Autonomous run 2 of at most 10: continuing because run 1 is not ready')
    expect(logs.stdout).toContain('continued its session with --continue')
  })

  test('stuck (never ready, same blocker, no worktree change): the breaker fails the task after 3 runs with the reason', async () => {
    const w = await taskWorld(() => ({text: `I cannot go on.\n${gate(false, 'the database is unreachable', ['cannot reach the database'])}`}))
    const r = await w.makima(['task', 'spawn', '--autonomous', '--json', '--repo', w.repo.dir, 'Stuck plan: migrate the database'], {timeoutMs: 90_000})
    expect(r.code, r.stderr).toBe(1)
    const task = JSON.parse(r.stdout)
    expect(task.state).toBe('failed')
    expect(task.error).toContain('autonomous loop stopped by its circuit breaker after run 3')
    expect(task.error).toContain('3 consecutive runs without progress (last: the worktree did not change')
    expect(task.error).toContain('the same first blocker 3 times in a row: "cannot reach the database"')
    expect(task.error).toContain('Last gate: run 3 is not ready: the database is unreachable')
    expect(runStarts(w.api.calls)).toHaveLength(3)
    const raw = await w.makima(['task', 'logs', '--raw', task.id])
    expect(initSessions(raw.stdout)).toHaveLength(3)
    expect(r.stderr).toContain('Autonomous run 3 of at most 10: continuing because run 2 is not ready')
    expect(r.stderr).toContain('Autonomous run 3: run 3 is not ready: the database is unreachable (blockers: cannot reach the database). Circuit breaker:')
    expect(r.stderr).not.toContain('Autonomous run 4')
  })

  test('a malformed gate block is reported in the transcript and in the continuation prompt, and counts as not ready', async () => {
    const script: Script = (ctx) => {
      if (!isContinuation(ctx)) {
        if (ctx.toolResults.length === 0) return {bash: 'echo draft > draft.txt'}
        return {text: 'Draft written.\n<COMPLETION_GATE>\n{"ready": true, "reason": "done",}\n</COMPLETION_GATE>'}
      }
      return {text: gate(true, 'fixed the gate')}
    }
    const w = await taskWorld(script)
    const r = await w.makima(['task', 'spawn', '--autonomous', '--repo', w.repo.dir, 'Malformed gate plan'], {timeoutMs: 90_000})
    expect(r.code, r.stderr).toBe(0)
    // A "ready": true in a block that is not valid JSON did not end the task after run 1.
    expect(r.stdout).toMatch(/Autonomous run 2 of at most 10: continuing because run 1: the COMPLETION_GATE block is not valid JSON: \S/)
    expect(r.stdout).toContain('Autonomous run 2 of at most 10: ready: fixed the gate')
    const starts = runStarts(w.api.calls)
    expect(starts).toHaveLength(2)
    expect(starts[1].lastUserText).toContain('Your COMPLETION_GATE block could not be read: the COMPLETION_GATE block is not valid JSON')
  })

  test('no gate at all is "not ready: no completion gate"; autonomous.maxRuns from the config ends the loop', async () => {
    let n = 0
    const script: Script = (ctx) => (ctx.toolResults.length === 0 ? {bash: `echo ${++n} >> progress.txt`} : {text: 'Worked on it, more to do.'})
    const w = await taskWorld(script)
    const set = await w.makima(['config', 'set', 'autonomous.maxRuns', '2'])
    expect(set.code, set.stderr).toBe(0)
    const r = await w.makima(['task', 'spawn', '--autonomous', '--json', '--repo', w.repo.dir, 'No gate plan'], {timeoutMs: 90_000})
    expect(r.code, r.stderr).toBe(1)
    const task = JSON.parse(r.stdout)
    expect(task.state).toBe('failed')
    expect(task.error).toContain('2 runs without being ready (autonomous.maxRuns is 2)')
    expect(task.error).not.toContain('without progress') // the worktree changed in each run
    expect(task.error).toContain('Last gate: run 2 is not ready: no completion gate')
    expect(r.stderr).toContain('Autonomous run 1 of at most 2: starting with the plan')
    expect(r.stderr).toContain('Autonomous run 2 of at most 2: continuing because run 1 is not ready: no completion gate')
    expect(runStarts(w.api.calls)).toHaveLength(2)
    expect(readFileSync(join(task.worktreePath, 'progress.txt'), 'utf8')).toBe('1\n2\n')
    expect(existsSync(task.worktreePath)).toBe(true)
  })
})
