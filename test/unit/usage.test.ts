// What Claude Code reports about usage, parsed at the edge and counted per run (issue 19), against
// real output of the two behaviours in test/fixtures/claude-usage/ (README there): 2.1.197 (cost
// a total of the process) and 2.1.332 (cost a total of the session, fields in another order).
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {parseStreamLine} from '../../src/lib/claude/stream-event.js'
import {compareVersions, costIsSessionTotal, RunCost, SESSION_TOTAL_COST_SINCE} from '../../src/lib/claude/usage.js'
import {Store} from '../../src/lib/store/store.js'
import {usageReport} from '../../src/lib/store/usage-report.js'
import {OutputEvent} from '../../src/lib/tasks/events.js'
import {raiseHint} from '../../src/lib/tasks/limits/stop.js'
import {formatDuration, formatUsd, limitReached, mergeLimits, parseDuration, type TaskLimits} from '../../src/lib/tasks/limits/limits.js'
import {RunMeter} from '../../src/lib/tasks/run/meter.js'
import {TranscriptRenderer} from '../../src/lib/ui/transcript.js'
import {costCell, usageRows} from '../../src/lib/ui/usage-format.js'
import {projectRoot} from '../support/env.js'
import {id, record, tempDbs} from '../support/store-fixtures.js'

const FIXTURES = join(projectRoot, 'test', 'fixtures', 'claude-usage')
const lines = (version: string, file: string) =>
  readFileSync(join(FIXTURES, version, `${file}.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
const tempDb = tempDbs()

describe('the stream-json parser reads usage by field (both versions)', () => {
  it.each([
    ['2.1.197', 'type', 'claude-opus-4-8[1m]'],
    ['2.1.332', 'duration_api_ms', 'claude-opus-5-5'],
  ])('%s: init names the version and key source; a result its tokens, models, terminal reason and total', (version, firstKey, model) => {
    const events = lines(version, 'tool-then-text').map(parseStreamLine)
    const init = events[0]
    expect(init).toMatchObject({kind: 'init', version, apiKeySource: 'ANTHROPIC_API_KEY'})
    const resultLine = lines(version, 'tool-then-text').at(-1)!
    expect(Object.keys(JSON.parse(resultLine))[0]).toBe(firstKey) // 2.1.218+ do not start with "type"
    const result = events.at(-1)!
    expect(result).toMatchObject({
      kind: 'result',
      isError: false,
      numTurns: 2,
      usage: {inputTokens: 2, outputTokens: 2, cacheReadTokens: 0, cacheWriteTokens: 0},
      models: [model],
      terminalReason: 'completed',
    })
    expect(events.filter((e) => e.kind === 'assistant').map((e) => e.kind === 'assistant' && e.messageId)).toEqual(['msg_scripted_1', 'msg_scripted_2'])
  })

  it('the max-budget and max-turns results of both versions', () => {
    for (const version of ['2.1.197', '2.1.332']) {
      expect(parseStreamLine(lines(version, 'resume-max-budget').at(-1)!)).toMatchObject({kind: 'result', isError: true, subtype: 'error_max_budget_usd'})
      // Claude Code's own --max-turns 3 let 3 assistant messages through and says num_turns 4
      const turns = lines(version, 'max-turns').map(parseStreamLine)
      expect(turns.at(-1)).toMatchObject({kind: 'result', subtype: 'error_max_turns', numTurns: 4, terminalReason: 'max_turns'})
      expect(new Set(turns.flatMap((e) => (e.kind === 'assistant' ? [e.messageId] : []))).size).toBe(3)
    }
  })
})

describe('cost semantics', () => {
  it(`changed in ${SESSION_TOTAL_COST_SINCE}: totals of the process before, of the session from then on`, () => {
    expect(compareVersions('2.1.97', '2.1.277')).toBe(-1)
    expect(compareVersions('2.1.277', '2.1.277')).toBe(0)
    expect(compareVersions('2.10.0', '2.1.277')).toBe(1)
    expect(costIsSessionTotal('2.1.276')).toBe(false)
    expect(costIsSessionTotal('2.1.277')).toBe(true)
    expect(costIsSessionTotal('2.1.332')).toBe(true)
  })

  it('RunCost: each result adds its total minus the one before; a total below where it started counts whole', () => {
    const old = new RunCost()
    old.begin('2.1.197', 0.5) // a process total: the session's earlier cost is not in it
    expect([old.add(0.1), old.add(0.25)]).toEqual([0.1, 0.15])
    expect(old.costUsd).toBeCloseTo(0.25, 12)
    const session = new RunCost()
    session.begin('2.1.332', 0.5)
    expect(session.add(0.7)).toBeCloseTo(0.2, 12)
    const surprise = new RunCost()
    surprise.begin(null, 0.5) // unknown version taken as a session total; this one started again at 0
    expect(surprise.add(0.1)).toBeCloseTo(0.1, 12)
  })
})

/** Feeds the runs (fixture files, one claude process each) of one task through RunMeter into a real store. */
function meterRuns(version: string, files: string[], limits: TaskLimits | null = null, onLimit: (m: string) => void = () => {}) {
  const store = Store.open(tempDb())
  const taskId = id('0000aaaa')
  store.tasks.insert(record(taskId, {state: 'running', limits}))
  for (const [i, file] of files.entries()) {
    const meter = new RunMeter({store, task: store.tasks.require(taskId), kind: i === 0 ? 'start' : 'resume', onLimit})
    for (const line of lines(version, file)) meter.observe(new OutputEvent(taskId, 'stdout', line))
    meter.end()
    const sid = store.usage.runs(taskId).at(-1)!.sessionId
    store.tasks.update(taskId, {sessionId: sid})
  }
  return {store, taskId}
}

describe('RunMeter: per run and in total, never a sum of running totals', () => {
  it.each([
    ['2.1.197', [0.00006, 0.00003]],
    ['2.1.332', [0.000048, 0.000024]],
  ])('%s: a task and its resumed follow-up', (version, expected) => {
    const {store, taskId} = meterRuns(version, ['tool-then-text', 'resume'])
    const runs = store.usage.runs(taskId)
    expect(runs.map((r) => r.costUsd)).toEqual(expected.map((c) => expect.closeTo(c, 12)))
    expect(runs.map((r) => [r.kind, r.turns, r.results, r.inputTokens, r.outputTokens, r.cliVersion])).toEqual([
      ['start', 2, 1, 2, 2, version],
      ['resume', 1, 1, 1, 1, version],
    ])
    const total = store.usage.totals(taskId)
    expect(total).toMatchObject({runs: 2, turns: 3, inputTokens: 3, outputTokens: 3, costEstimated: false})
    expect(total.costUsd).toBeCloseTo(expected[0] + expected[1], 12)
    store.close()
  })

  it.each([
    // chat: two results in one process (0.00003, 0.00006 / 0.000024, 0.000048); --continue; a --resume stopped by the budget
    ['2.1.197', [0.00006, 0.00003, 0.00012], 0.00021],
    ['2.1.332', [0.000048, 0.000024, 0.00012], 0.000192],
  ])('%s: two results in one process, --continue and --resume of the same session', (version, expected, total) => {
    const {store, taskId} = meterRuns(version, ['chat', 'continue', 'resume-max-budget'])
    expect(store.usage.runs(taskId).map((r) => r.costUsd)).toEqual(expected.map((c) => expect.closeTo(c, 12)))
    expect(store.usage.totals(taskId).costUsd).toBeCloseTo(total, 12)
    // the last total each run printed, kept so the next run of the session knows where it was
    const reported = store.usage.runs(taskId).map((r) => r.reportedCostUsd)
    expect(reported.at(-1)).toBeCloseTo(version === '2.1.332' ? total : 0.00012, 12)
    store.close()
  })

  it('counts turns from the stream (3 where Claude Code says num_turns 4); the turn limit trips at a tool call of the last allowed turn', () => {
    expect(meterRuns('2.1.332', ['max-turns']).store.usage.runs(id('0000aaaa'))[0].turns).toBe(3)
    const tripped: string[] = []
    meterRuns('2.1.197', ['tool-then-text'], {timeoutSecs: null, maxTurns: 2, maxCostUsd: null}, (m) => tripped.push(m))
    expect(tripped).toEqual([]) // the second turn is the final answer: nothing to stop
    meterRuns('2.1.197', ['tool-then-text'], {timeoutSecs: null, maxTurns: 1, maxCostUsd: null}, (m) => tripped.push(m))
    expect(tripped).toEqual(['limit reached: 1 turn (max 1)'])
    // across runs: the earlier run's two turns count
    meterRuns('2.1.197', ['tool-then-text', 'max-turns'], {timeoutSecs: null, maxTurns: 3, maxCostUsd: null}, (m) => tripped.push(m))
    expect(tripped.at(-1)).toBe('limit reached: 3 turns (max 3)')
  })

  it("Claude Code's budget stop is the task's cost limit; wall time counts every run", () => {
    const tripped: string[] = []
    meterRuns('2.1.197', ['resume-max-budget'], {timeoutSecs: null, maxTurns: null, maxCostUsd: 0.0001}, (m) => tripped.push(m))
    expect(tripped).toEqual(['limit reached: $0.00012 cost (max $0.0001)'])

    const store = Store.open(tempDb())
    const taskId = id('0000bbbb')
    store.tasks.insert(record(taskId, {state: 'running', limits: {timeoutSecs: 10, maxTurns: null, maxCostUsd: null}}))
    let now = 1_000_000
    const first = new RunMeter({store, task: store.tasks.require(taskId), kind: 'start', onLimit: (m) => tripped.push(m), now: () => now})
    now += 6000
    first.tick()
    first.end()
    const second = new RunMeter({store, task: store.tasks.require(taskId), kind: 'resume', onLimit: (m) => tripped.push(m), now: () => now})
    now += 3900
    second.tick()
    expect(tripped).toHaveLength(1)
    now += 100
    second.tick()
    expect(tripped.at(-1)).toBe('limit reached: 10s wall time')
    store.close()
  })
})

describe('a subscription login: the cost is shown as an estimate', () => {
  it('in the transcript, task show and tables', () => {
    const [init, ...rest] = lines('2.1.197', 'tool-then-text')
    const oauth = init.replace('"apiKeySource":"ANTHROPIC_API_KEY"', '"apiKeySource":"none"')
    const renderer = new TranscriptRenderer({color: false, width: 200})
    expect(renderer.render(parseStreamLine(oauth))[0]).toMatch(/subscription login: ~costs are estimates at API prices$/)
    expect(
      rest
        .map(parseStreamLine)
        .flatMap((e) => renderer.render(e))
        .at(-1),
    ).toMatch(/^✓ done in \S+ · ~\$0\.0001 · 2 turns$/)
    const usage = {inputTokens: 1200, outputTokens: 34, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.5, turns: 3, durationMs: 65_000, runs: 2, models: ['m'], costEstimated: true}
    expect(costCell(usage)).toBe('~$0.5000')
    expect(usageRows(usage, {timeoutSecs: 1800, maxTurns: null, maxCostUsd: 2})).toEqual([
      ['limits', 'wall time 30m, cost $2.00'],
      ['cost', '$0.5000 (estimate at API prices: Claude Code runs on a subscription login, which is not billed per token)'],
      ['turns', '3'],
      ['wall time', '1m5s in 2 runs'],
      ['tokens', 'in 1.2k, out 34, cache read 0, cache write 0'],
      ['models', 'm'],
    ])
  })
})

describe('UsageStore and makima usage', () => {
  it('a run left open by a dead runner ends at the task end; the next run closes it at the last output line', () => {
    const store = Store.open(tempDb())
    const taskId = id('0000cccc')
    store.tasks.insert(record(taskId, {state: 'running'}))
    const number = store.usage.startRun(taskId, 'start', Date.parse('2026-01-01T00:00:00Z'), null)
    store.tasks.update(taskId, {state: 'interrupted', completedAt: '2026-01-01T00:00:05.000Z'})
    expect(store.usage.totals(taskId).durationMs).toBe(5000)
    store.output.push(taskId, 'stdout', '{}')
    store.output.flush()
    store.tasks.update(taskId, {state: 'running'})
    store.usage.startRun(taskId, 'resume', Date.now(), null)
    const [closed] = store.usage.runs(taskId)
    expect(closed.number).toBe(number)
    expect(closed.endedMs).toBeGreaterThan(closed.startedMs)
    expect(closed.endedMs).toBeLessThanOrEqual(Date.now())
    store.close()
  })

  it('groups by day, repository and task; since leaves earlier runs out', () => {
    const store = Store.open(tempDb())
    const day = (d: string) => Date.parse(`2026-03-0${d}T10:00:00Z`)
    const add = (taskId: string, repo: string | null, started: number, cost: number, apiKeySource = 'ANTHROPIC_API_KEY') => {
      if (!store.tasks.get(taskId)) store.tasks.insert(record(taskId, {state: 'completed', repoSource: repo, completedAt: new Date(started + 2000).toISOString()}))
      const n = store.usage.startRun(taskId, 'start', started, null)
      store.usage.updateRun(taskId, n, {endedMs: started + 1000, costUsd: cost, turns: 2, inputTokens: 10, models: ['m1'], apiKeySource})
    }
    add(id('0000d001'), 'https://user:secret@example.com/a.git', day('1'), 0.5)
    add(id('0000d001'), 'https://user:secret@example.com/a.git', day('2'), 0.25)
    add(id('0000d002'), null, day('2'), 1, 'none')
    const byDay = usageReport(store.db, {sinceMs: null, by: 'day'})
    expect(byDay.rows.map((r) => [r.key, r.tasks, r.runs, r.costUsd])).toEqual([
      ['2026-03-01', 1, 1, 0.5],
      ['2026-03-02', 2, 2, 1.25],
    ])
    expect(byDay.total).toMatchObject({tasks: 2, runs: 3, turns: 6, inputTokens: 30, costUsd: 1.75, durationMs: 3000, models: ['m1'], costEstimated: true})
    const byRepo = usageReport(store.db, {sinceMs: day('2') - 1, by: 'repo'})
    expect(byRepo.rows.map((r) => [r.label, r.costUsd])).toEqual([
      ['(no repository)', 1],
      ['https://***@example.com/a.git', 0.25],
    ])
    expect(byRepo.since).toBe('2026-03-02T09:59:59.999Z')
    const byTask = usageReport(store.db, {sinceMs: null, by: 'task'})
    expect(byTask.rows.map((r) => [r.key, r.runs])).toEqual([
      [id('0000d001'), 2],
      [id('0000d002'), 1],
    ])
    store.close()
  })
})

describe('limits', () => {
  it('durations, amounts and the messages that name them', () => {
    expect([parseDuration('90s'), parseDuration('30m'), parseDuration('2h'), parseDuration('1h30m'), parseDuration('1d'), parseDuration('45')]).toEqual([90, 1800, 7200, 5400, 86_400, 45])
    for (const bad of ['5x', '', '0s', '-3m', '1h 30m', 'm']) expect(() => parseDuration(bad)).toThrow(`--timeout "${bad}" is not a duration`)
    expect([formatDuration(90), formatDuration(1800), formatDuration(5400), formatDuration(3), formatDuration(2.5)]).toEqual(['1m30s', '30m', '1h30m', '3s', '2.5s'])
    expect([formatUsd(0), formatUsd(0.00012), formatUsd(0.0123), formatUsd(2), formatUsd(123.456)]).toEqual(['$0', '$0.00012', '$0.0123', '$2.00', '$123.46'])
    const limits = {timeoutSecs: 1800, maxTurns: 50, maxCostUsd: 2}
    expect(limitReached(limits, {durationMs: 1_799_999, turns: 49, costUsd: 1.99})).toBeNull()
    expect(limitReached(limits, {durationMs: 1_800_000, turns: 0, costUsd: 0})).toBe('limit reached: 30m wall time')
    expect(limitReached(limits, {durationMs: 0, turns: 50, costUsd: 0})).toBe('limit reached: 50 turns (max 50)')
    expect(limitReached(limits, {durationMs: 0, turns: 0, costUsd: 2.5})).toBe('limit reached: $2.50 cost (max $2.00)')
    expect(mergeLimits(limits, {maxCostUsd: 5})).toEqual({...limits, maxCostUsd: 5})
    expect(mergeLimits(null, {})).toBeNull()
    expect(raiseHint(limits, {durationMs: 1_800_000, turns: 0, costUsd: 0}, 'limit reached: 30m wall time')).toBe('--timeout 1h')
    expect(raiseHint(limits, {durationMs: 0, turns: 50, costUsd: 0}, 'limit reached: 50 turns (max 50)')).toBe('--max-turns 100')
    expect(raiseHint(limits, {durationMs: 0, turns: 0, costUsd: 2.5}, 'limit reached: $2.50 cost (max $2.00)')).toBe('--max-cost 5')
  })
})
