// Rate limits: wait, don't fail (issue 19 §3), through the built CLI against the REAL claude (both
// versions: CLAUDE_VERSIONS) and a scripted API that answers 429 with the
// rate-limit headers of the real API (test/fixtures/claude-stream-json/README.md says what each
// login prints). An API-key login retries a 429 itself; an OAuth (subscription) login ends the run
// with a usage limit, whose reset is a few seconds ahead here.
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {CLAUDE_VERSIONS} from '../support/env.js'
import {byPrompt, rateLimitHeaders, type Reply} from '../support/scripted-api.js'
import {errorLines, taskWorld, useTaskCleanup, type TaskWorld} from '../support/task-helpers.js'
import {Store} from '../../src/lib/store/store.js'
import {CONTINUE_MESSAGE} from '../../src/lib/tasks/limits/usage-limit.js'

useTaskCleanup()

const CLAUDES = CLAUDE_VERSIONS.map(({label, bin}) => [label, bin] as const)
const OAUTH = {ANTHROPIC_API_KEY: undefined, CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-ratelimit-test'}

/** The hold as the store has it (one row per MAKIMA_HOME). */
function storedHold(w: TaskWorld) {
  const store = Store.open(join(w.t.makimaHome, 'makima.db'))
  try {
    return store.rateLimit.last()
  } finally {
    store.close()
  }
}

/** 429 with the headers of a subscription's five-hour limit, rejected until `resetMs`. */
function usageLimited(resetMs: number): Reply {
  return {headers: rateLimitHeaders({status: 'rejected', resetsAt: Math.ceil(resetMs / 1000), claim: 'five_hour'}), then: {status: 429, error: 'rate limited'}}
}

/** A conversation the API refuses (usage limit) until `secs` after its first call, then answers. */
function limitedUntilReset(secs: number, answer: string) {
  let resetMs: number | null = null
  const script = (): Reply => {
    resetMs ??= (Math.ceil(Date.now() / 1000) + secs) * 1000
    return Date.now() < resetMs ? usageLimited(resetMs) : {text: answer}
  }
  return {script, resetMs: () => resetMs}
}

describe.each(CLAUDES)('rate limits with Claude Code %s', (_name, claude) => {
  test('API key: a 429 with retry-after during a task: Claude Code retries, the task completes, the hold is recorded', async () => {
    let calls = 0
    const w = await taskWorld(
      byPrompt({'retry me': () => (calls++ === 0 ? {headers: {'retry-after': '1'}, then: {status: 429, error: 'Number of requests has exceeded your rate limit'}} : {text: 'done after the retry'})}),
      {MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: claude},
    )
    const r = await w.makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'retry me'])
    expect(r.code, r.stderr).toBe(0)
    const task = JSON.parse(r.stdout)
    expect(task).toMatchObject({state: 'completed', failureKind: null, rateLimitedUntil: null})
    expect(calls).toBe(2)
    const hold = storedHold(w)
    expect(hold).toMatchObject({kind: 'retry', source: 'api_retry', taskId: task.id})
    // held for Claude Code's retry delay (retry-after: 1), counted from when it said so
    expect(hold!.untilMs - hold!.updatedMs).toBeGreaterThanOrEqual(1000)
  }, 120_000)

  test('OAuth: a usage limit ends the task as usage_limit; a spawn inside the hold is held, then runs after the reset; task send resumes the first', async () => {
    // 30 s: room for the steps inside the hold (a few CLI commands) on a loaded machine
    const limited = limitedUntilReset(30, 'first done after the reset')
    const w = await taskWorld(byPrompt({'limited task': limited.script, 'second task': {text: 'second done'}, 'go on': {text: 'went on'}}), {
      ...OAUTH,
      MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: claude,
    })
    const first = await w.makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'limited task'])
    expect(first.code, first.stderr).toBe(1)
    const failed = JSON.parse(first.stdout)
    const resetMs = limited.resetMs()!
    expect(failed).toMatchObject({state: 'failed', failureKind: 'usage_limit', rateLimitedUntil: new Date(resetMs).toISOString(), resumeAfterLimit: false})
    expect(failed.error).toMatch(/^usage limit reached \(five_hour\): resets at \d\d:\d\d(:\d\d)?; resume it then with `makima task send <id> continue`/)
    expect(storedHold(w)).toMatchObject({untilMs: resetMs, kind: 'five_hour', taskId: failed.id})

    // before the reset task send says when it resets (exit 4)
    const early = await w.makima(['task', 'send', failed.id, 'go on'])
    expect(Date.now()).toBeLessThan(resetMs) // else the machine was too slow for this test's 30 s
    expect(early.code).toBe(4)
    expect(errorLines(early.stderr)[0]).toMatch(/usage limit of Claude Code that resets at \d\d:\d\d/)

    // a spawn inside the hold is held: queued with the reason, started by its runner after the reset
    const spawned = await w.makima(['task', 'spawn', '--detach', '--repo', w.repo.dir, 'second task'])
    expect(spawned.code, spawned.stderr).toBe(0)
    const second = spawned.stdout.trim()
    expect(spawned.stderr).toMatch(/held: rate limited until \d\d:\d\d(:\d\d)? \(five_hour\); it starts after that/)
    const held = await w.json(['task', 'show', second])
    expect(Date.now()).toBeLessThan(resetMs)
    expect(held).toMatchObject({state: 'queued', rateLimitedUntil: new Date(resetMs).toISOString()})
    const shown = await w.makima(['task', 'show', second])
    expect(shown.stdout).toMatch(/rate limit +held: rate limited until \d\d:\d\d/)
    const doctor = await w.makima(['doctor', '--json'])
    expect(JSON.parse(doctor.stdout)).toContainEqual(
      expect.objectContaining({
        check: 'ratelimit',
        status: 'warn',
        detail: expect.stringMatching(/^rate limited until \d\d:\d\d(:\d\d)? \(five_hour, from (rate_limit_event|usage_limit)\), 1 task held$/),
      }),
    )
    const top = await w.json(['top', '--all'])
    expect(top.find((row: any) => row.id === second)?.rateLimit).toMatch(/^held: rate limited until /)
    expect(top.find((row: any) => row.id === failed.id)?.rateLimit).toMatch(/^usage limit: resets at \d\d:\d\d(:\d\d)? \(resume with task send\)$/)
    expect(Date.now()).toBeLessThan(resetMs)
    const waited = await w.makima(['task', 'wait', second, '--timeout', '90'], {timeoutMs: 100_000})
    expect(waited.code, waited.stderr).toBe(0)
    const secondCalls = w.api.calls.filter((c) => c.firstUserText.includes('second task'))
    expect(secondCalls.length).toBeGreaterThan(0)
    expect(secondCalls.every((c) => c.request.at >= resetMs)).toBe(true)

    // after the reset task send resumes the usage-limited task
    const sent = await w.makima(['task', 'send', failed.id, 'go on'])
    expect(sent.code, sent.stderr).toBe(0)
    const resumed = await w.makima(['task', 'wait', failed.id, '--json', '--timeout', '60'], {timeoutMs: 70_000})
    expect(resumed.code, resumed.stderr).toBe(0)
    expect(JSON.parse(resumed.stdout)).toMatchObject({state: 'completed', failureKind: null, rateLimitedUntil: null})
  }, 240_000)

  test('OAuth: --resume-after-limit waits for the reset and resumes with "continue"; the attached spawn exits 0', async () => {
    const limited = limitedUntilReset(6, 'done after the reset')
    const w = await taskWorld(byPrompt({'keep at it': limited.script}), {...OAUTH, MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: claude})
    const r = await w.makima(['task', 'spawn', '--json', '--resume-after-limit', '--repo', w.repo.dir, 'keep at it'], {timeoutMs: 120_000})
    expect(r.code, r.stderr).toBe(0)
    const task = JSON.parse(r.stdout)
    expect(task).toMatchObject({state: 'completed', failureKind: null, resumeAfterLimit: true})
    expect(task.usage.runs).toBe(2)
    const continued = w.api.calls.find((c) => c.lastUserText === CONTINUE_MESSAGE)
    expect(continued).toBeTruthy()
    expect(continued!.request.at).toBeGreaterThanOrEqual(limited.resetMs()!)
  }, 180_000)

  test('OAuth: task send --resume-after-limit before the reset: the message waits and resumes the task at the reset', async () => {
    const limited = limitedUntilReset(10, 'first answer')
    const w = await taskWorld(byPrompt({'later please': {text: 'resumed with the message'}, 'limited at first': limited.script}), {
      ...OAUTH,
      MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: claude,
    })
    const first = await w.makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'limited at first'])
    expect(first.code, first.stderr).toBe(1)
    const task = JSON.parse(first.stdout)
    expect(task.failureKind).toBe('usage_limit')
    const sent = await w.makima(['task', 'send', '--resume-after-limit', task.id, 'later please'])
    expect(sent.code, sent.stderr).toBe(0)
    expect(Date.now()).toBeLessThan(limited.resetMs()!)
    expect(sent.stderr + sent.stdout).toMatch(/resumes with the message when its usage limit resets/)
    const waited = await w.makima(['task', 'wait', task.id, '--json', '--timeout', '60'], {timeoutMs: 70_000})
    expect(waited.code, waited.stderr).toBe(0)
    expect(JSON.parse(waited.stdout)).toMatchObject({state: 'completed', resumeAfterLimit: true})
    const resumed = w.api.calls.find((c) => c.lastUserText === 'later please')
    expect(resumed!.request.at).toBeGreaterThanOrEqual(limited.resetMs()!)
  }, 120_000)

  test('OAuth: a task queued for the cap when a usage limit frees the slot is started after the reset, with nobody waiting for it', async () => {
    let resetMs: number | null = null
    const w = await taskWorld(
      byPrompt({
        'slot holder': async (): Promise<Reply> => {
          await new Promise((r) => setTimeout(r, 3000)) // long enough for the next task to queue behind it
          resetMs ??= (Math.ceil(Date.now() / 1000) + 8) * 1000
          return usageLimited(resetMs)
        },
        'queued behind': {text: 'ran after the reset'},
      }),
      {...OAUTH, MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: claude, MAKIMA_DAEMON_PROCESS_MAXCONCURRENTTASKS: '1'},
    )
    const holder = (await w.makima(['task', 'spawn', '--detach', '--repo', w.repo.dir, 'slot holder'])).stdout.trim()
    const queued = await w.makima(['task', 'spawn', '--detach', '--queue', '--repo', w.repo.dir, 'queued behind'])
    expect(queued.code, queued.stderr).toBe(0)
    const id = queued.stdout.trim()
    expect((await w.json(['task', 'show', id])).state).toBe('queued')
    // only `task show` from here on: it starts nothing (task wait would promote the queue itself)
    const deadline = Date.now() + 90_000
    let task: any
    do {
      await new Promise((r) => setTimeout(r, 500))
      task = await w.json(['task', 'show', id])
    } while (task.state !== 'completed' && task.state !== 'failed' && Date.now() < deadline)
    expect(task.state).toBe('completed')
    expect((await w.json(['task', 'show', holder])).failureKind).toBe('usage_limit')
    const calls = w.api.calls.filter((c) => c.firstUserText.includes('queued behind'))
    expect(calls.length).toBeGreaterThan(0)
    expect(calls.every((c) => c.request.at >= resetMs!)).toBe(true)
  }, 150_000)

  test('OAuth: an attached spawn inside the hold says it is held, waits, and runs the task after the reset', async () => {
    const limited = limitedUntilReset(10, 'never needed')
    const w = await taskWorld(byPrompt({'hits the limit': limited.script, 'attached after': {text: 'attached done'}}), {...OAUTH, MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: claude})
    expect((await w.makima(['task', 'spawn', '--repo', w.repo.dir, 'hits the limit'])).code).toBe(1)
    const attached = await w.makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'attached after'], {timeoutMs: 90_000})
    expect(attached.code, attached.stderr).toBe(0)
    expect(attached.stderr).toMatch(/task [0-9a-f]{8} held: rate limited until \d\d:\d\d(:\d\d)? \(five_hour\)/)
    expect(JSON.parse(attached.stdout)).toMatchObject({state: 'completed', rateLimitedUntil: null})
    const calls = w.api.calls.filter((c) => c.firstUserText.includes('attached after'))
    expect(calls.length).toBeGreaterThan(0)
    expect(calls.every((c) => c.request.at >= limited.resetMs()!)).toBe(true)
  }, 120_000)
})
