// The autonomous loop's decisions (src/lib/tasks/autonomous/session.ts, AutonomousLoop): complete on a
// ready gate, continue with a prompt quoting the gate otherwise, and the circuit breaker's three
// limits. Plus the worktree fingerprint of a task without a repository.
import {mkdtempSync, rmSync, writeFileSync, mkdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {describe, expect, test} from 'vitest'

import {AutonomousLoop, CONTINUATION_MARKER, assistantText, hashDirectory} from '../../src/lib/tasks/autonomous/session.js'
import {parseStreamLine} from '../../src/lib/claude/stream-event.js'

const LIMITS = {maxRuns: 10, maxRunsWithoutProgress: 3, maxSameBlocker: 3}
const gate = (ready: boolean, reason: string, blockers: string[] = []) => `<COMPLETION_GATE>${JSON.stringify({ready, reason, blockers})}</COMPLETION_GATE>`

describe('AutonomousLoop', () => {
  test('a ready gate completes the task', () => {
    const loop = new AutonomousLoop(LIMITS)
    expect(loop.firstLine()).toBe('Autonomous run 1 of at most 10: starting with the plan')
    const d = loop.afterRun({text: `all done\n${gate(true, 'tests pass')}`, worktreeChanged: true})
    expect(d).toEqual({action: 'complete', run: 1, line: 'Autonomous run 1 of at most 10: ready: tests pass'})
  })

  test('not ready: continue, the line and the prompt quote the reason and blockers', () => {
    const loop = new AutonomousLoop(LIMITS)
    const d = loop.afterRun({text: gate(false, 'parser half done', ['write the lexer', 'add tests']), worktreeChanged: true})
    expect(d.action).toBe('continue')
    if (d.action !== 'continue') return
    expect(d.nextRun).toBe(2)
    expect(d.line).toBe('Autonomous run 2 of at most 10: continuing because run 1 is not ready: parser half done (blockers: write the lexer; add tests)')
    expect(d.prompt.startsWith(CONTINUATION_MARKER)).toBe(true)
    expect(d.prompt).toContain('run 2 of at most 10')
    expect(d.prompt).toContain('"parser half done"')
    expect(d.prompt).toContain('- "write the lexer"')
    expect(d.prompt).toContain('- "add tests"')
  })

  test('no gate, and a malformed gate, are "not ready" and said so', () => {
    const loop = new AutonomousLoop(LIMITS)
    const none = loop.afterRun({text: 'I worked a lot', worktreeChanged: true})
    expect(none).toMatchObject({action: 'continue', line: 'Autonomous run 2 of at most 10: continuing because run 1 is not ready: no completion gate'})
    const bad = loop.afterRun({text: '<COMPLETION_GATE>{"ready": tru}</COMPLETION_GATE>', worktreeChanged: true})
    expect(bad.action).toBe('continue')
    expect(bad.line).toMatch(/^Autonomous run 3 of at most 10: continuing because run 2: the COMPLETION_GATE block is not valid JSON: /)
    if (bad.action === 'continue') expect(bad.prompt).toMatch(/could not be read: the COMPLETION_GATE block is not valid JSON/)
  })

  test('breaker: maxRunsWithoutProgress consecutive runs without a worktree change', () => {
    const loop = new AutonomousLoop(LIMITS)
    expect(loop.afterRun({text: gate(false, 'a', ['b1']), worktreeChanged: false}).action).toBe('continue')
    expect(loop.afterRun({text: gate(false, 'a', ['b2']), worktreeChanged: false}).action).toBe('continue')
    const d = loop.afterRun({text: gate(false, 'still a', ['b3']), worktreeChanged: false})
    expect(d.action).toBe('fail')
    if (d.action === 'fail') {
      expect(d.error).toContain('circuit breaker after run 3')
      expect(d.error).toContain('3 consecutive runs without progress (last: the worktree did not change')
      expect(d.error).toContain('Last gate: run 3 is not ready: still a (blockers: b3)')
    }
  })

  test('breaker: a run with progress resets the no-progress count; no output counts as no progress', () => {
    const loop = new AutonomousLoop(LIMITS)
    loop.afterRun({text: gate(false, 'a', ['x1']), worktreeChanged: false})
    loop.afterRun({text: gate(false, 'a', ['x2']), worktreeChanged: false})
    expect(loop.afterRun({text: gate(false, 'a', ['x3']), worktreeChanged: true}).action).toBe('continue')
    loop.afterRun({text: '', worktreeChanged: true}) // changed files but said nothing: no progress
    loop.afterRun({text: gate(false, 'a', ['x4']), worktreeChanged: false})
    const d = loop.afterRun({text: gate(false, 'a', ['x5']), worktreeChanged: false})
    expect(d.action).toBe('fail')
    if (d.action === 'fail') expect(d.error).toContain('3 consecutive runs without progress')
  })

  test('breaker: the same first blocker maxSameBlocker times in a row, even with progress', () => {
    const loop = new AutonomousLoop(LIMITS)
    loop.afterRun({text: gate(false, 'r', ['Tests fail', 'other']), worktreeChanged: true})
    loop.afterRun({text: gate(false, 'r', ['tests  fail.']), worktreeChanged: true})
    const d = loop.afterRun({text: gate(false, 'r', ['TESTS FAIL']), worktreeChanged: true})
    expect(d.action).toBe('fail')
    if (d.action === 'fail') {
      expect(d.error).toContain('the same first blocker 3 times in a row: "TESTS FAIL"')
      expect(d.error).not.toContain('without progress')
    }
  })

  test('a different first blocker (or none) resets the same-blocker count', () => {
    const loop = new AutonomousLoop(LIMITS)
    loop.afterRun({text: gate(false, 'r', ['A']), worktreeChanged: true})
    loop.afterRun({text: gate(false, 'r', ['A']), worktreeChanged: true})
    loop.afterRun({text: gate(false, 'r', ['B']), worktreeChanged: true})
    loop.afterRun({text: gate(false, 'r', ['B']), worktreeChanged: true})
    loop.afterRun({text: gate(false, 'r', []), worktreeChanged: true})
    loop.afterRun({text: gate(false, 'r', ['B']), worktreeChanged: true})
    expect(loop.afterRun({text: gate(false, 'r', ['B']), worktreeChanged: true}).action).toBe('continue')
  })

  test('breaker: maxRuns runs without being ready; a ready gate on the last allowed run still completes', () => {
    const limits = {maxRuns: 3, maxRunsWithoutProgress: 5, maxSameBlocker: 5}
    const loop = new AutonomousLoop(limits)
    expect(loop.afterRun({text: gate(false, 'r', ['1']), worktreeChanged: true}).line).toBe('Autonomous run 2 of at most 3: continuing because run 1 is not ready: r (blockers: 1)')
    loop.afterRun({text: gate(false, 'r', ['2']), worktreeChanged: true})
    const d = loop.afterRun({text: gate(false, 'r', ['3']), worktreeChanged: true})
    expect(d.action).toBe('fail')
    if (d.action === 'fail') expect(d.error).toContain('3 runs without being ready (autonomous.maxRuns is 3)')

    const other = new AutonomousLoop(limits)
    other.afterRun({text: gate(false, 'r', ['1']), worktreeChanged: true})
    other.afterRun({text: gate(false, 'r', ['2']), worktreeChanged: true})
    expect(other.afterRun({text: gate(true, 'done'), worktreeChanged: false}).action).toBe('complete')
  })
})

describe('assistantText', () => {
  test('top-level assistant text only: not synthetic messages, not sub-agent text, not tool calls', () => {
    const line = (o: object) => parseStreamLine(JSON.stringify(o))
    const msg = (content: unknown[], extra: object = {}, model = 'claude') => line({type: 'assistant', message: {model, content}, parent_tool_use_id: null, ...extra})
    expect(
      assistantText(
        msg([
          {type: 'text', text: 'hello'},
          {type: 'tool_use', id: 't', name: 'Bash', input: {}},
        ]),
      ),
    ).toBe('hello\n')
    expect(assistantText(msg([{type: 'text', text: 'API Error'}], {}, '<synthetic>'))).toBe('')
    expect(assistantText(msg([{type: 'text', text: 'sub'}], {parent_tool_use_id: 'toolu_1'}))).toBe('')
    expect(assistantText(line({type: 'result', result: 'x'}))).toBe('')
  })
})

describe('hashDirectory (tasks without a repository)', () => {
  test('changes with content, new files and renames; not with .git', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'makima-hash-'))
    try {
      writeFileSync(path.join(dir, 'a.txt'), 'one')
      const h1 = hashDirectory(dir)
      expect(hashDirectory(dir)).toBe(h1)
      mkdirSync(path.join(dir, '.git'))
      writeFileSync(path.join(dir, '.git', 'x'), 'ignored')
      expect(hashDirectory(dir)).toBe(h1)
      writeFileSync(path.join(dir, 'a.txt'), 'two')
      const h2 = hashDirectory(dir)
      expect(h2).not.toBe(h1)
      mkdirSync(path.join(dir, 'sub'))
      writeFileSync(path.join(dir, 'sub', 'b.txt'), '')
      expect(hashDirectory(dir)).not.toBe(h2)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
