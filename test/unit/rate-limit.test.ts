// Rate limits (issue 19 §3): the reset times Claude Code's usage-limit text names, and the
// machine's hold in a real SQLite file.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'

import {formatReset, rateLimitInfoOf, resetTimeOf, usageLimitOf} from '../../src/lib/claude/rate-limit.js'
import {Store} from '../../src/lib/store/store.js'

/** Local time, as the CLI prints it: Dec 5 2026, 10:20. */
const NOW = new Date(2026, 11, 5, 10, 20).getTime()
const at = (month: number, day: number, h: number, m = 0, year = 2026) => new Date(year, month, day, h, m).getTime()

describe('resetTimeOf: the reset a usage-limit text names, in local time', () => {
  it.each([
    ["You've hit your 5-hour limit · resets 3pm", at(11, 5, 15)],
    ["You've hit your session limit · resets 3:30pm", at(11, 5, 15, 30)],
    ['Claude usage limit reached. Your limit resets 11am', at(11, 5, 11)],
    ["You've hit your weekly limit · resets Dec 8, 9am", at(11, 8, 9)],
    ["You've hit your Opus limit · resets Dec 8 at 9:15 pm", at(11, 8, 21, 15)],
    ['limit · resets 12am', at(11, 6, 0)],
    ['limit · resets 12pm', at(11, 5, 12)],
    ['limit · resets 15:00', at(11, 5, 15)],
  ])('%s', (text, expected) => {
    expect(resetTimeOf(text, NOW)).toBe(expected)
  })

  it('a time already past today is tomorrow; a date already past is next year', () => {
    expect(resetTimeOf('resets 9am', NOW)).toBe(at(11, 6, 9))
    expect(resetTimeOf('resets Jan 2, 3pm', NOW)).toBe(at(0, 2, 15, 0, 2027))
  })

  it('no time, or not a time: null', () => {
    for (const text of ["You've hit your 5-hour limit", 'resets soon', 'resets 3', 'resets 13pm', 'resets 25:00', 'resets Foo 3, 3pm']) expect(resetTimeOf(text, NOW)).toBeNull()
  })
})

describe('usageLimitOf: a run a usage limit ended', () => {
  it('names the limit and its reset', () => {
    expect(usageLimitOf("You've hit your 5-hour limit · resets 3pm", NOW)).toEqual({limit: '5-hour', resetsAtMs: at(11, 5, 15), text: "You've hit your 5-hour limit · resets 3pm"})
    expect(usageLimitOf("You've hit your weekly limit · resets Dec 8, 9am", NOW)?.limit).toBe('weekly')
    expect(usageLimitOf("You've hit your session limit", NOW)).toMatchObject({limit: 'session', resetsAtMs: null})
  })

  it('other texts, a spend limit and no text are not one', () => {
    for (const text of [null, '', 'API Error: 500 server error', 'limit reached: 3 turns (max 3)', "You've hit your monthly spend limit. Run /usage-credits"])
      expect(usageLimitOf(text, NOW)).toBeNull()
  })
})

describe('rateLimitInfoOf: rate_limit_event.rate_limit_info, by field', () => {
  it('reads status, resetsAt (seconds), rateLimitType, utilization; anything else is null', () => {
    expect(rateLimitInfoOf({utilization: 0.91, rateLimitType: 'seven_day', resetsAt: 1_800_000_000, status: 'allowed_warning', isUsingOverage: false})).toEqual({
      status: 'allowed_warning',
      resetsAtMs: 1_800_000_000_000,
      rateLimitType: 'seven_day',
      utilization: 0.91,
    })
    expect(rateLimitInfoOf({status: 'weird', resetsAt: 'soon'})).toEqual({status: null, resetsAtMs: null, rateLimitType: null, utilization: null})
    expect(rateLimitInfoOf(undefined).status).toBeNull()
  })
})

describe('formatReset', () => {
  it('today as HH:MM, another day with its date', () => {
    expect(formatReset(at(11, 5, 15), NOW)).toBe('15:00')
    expect(formatReset(at(11, 8, 9, 5), NOW)).toBe('Dec 8 09:05')
  })
})

describe("the machine's hold (rate-limit-store.ts, a real SQLite file)", () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
  })
  const open = () => {
    const dir = mkdtempSync(join(tmpdir(), 'makima-ratelimit-'))
    dirs.push(dir)
    return Store.open(join(dir, 'makima.db'))
  }

  it('a longer hold replaces a shorter one, never the reverse while it lasts; it lifts at its time', () => {
    const store = open()
    try {
      expect(store.rateLimit.current(NOW)).toBeNull()
      store.rateLimit.record({untilMs: NOW + 5000, kind: 'retry', source: 'api_retry', taskId: 't1'}, NOW)
      store.rateLimit.record({untilMs: NOW + 3_600_000, kind: 'five_hour', source: 'rate_limit_event', taskId: 't2'}, NOW)
      store.rateLimit.record({untilMs: NOW + 2000, kind: 'retry', source: 'api_retry', taskId: 't3'}, NOW + 1000)
      expect(store.rateLimit.current(NOW + 1000)).toMatchObject({untilMs: NOW + 3_600_000, kind: 'five_hour', taskId: 't2'})
      expect(store.rateLimit.current(NOW + 3_600_000)).toBeNull()
      // once it has passed, any new hold is recorded
      store.rateLimit.record({untilMs: NOW + 3_601_000, kind: 'retry', source: 'api_retry', taskId: 't4'}, NOW + 3_600_500)
      expect(store.rateLimit.current(NOW + 3_600_500)).toMatchObject({kind: 'retry', taskId: 't4'})
    } finally {
      store.close()
    }
  })

  it('`allowed` again for the same window lifts it; for another window it does not', () => {
    const store = open()
    try {
      store.rateLimit.record({untilMs: NOW + 3_600_000, kind: 'five_hour', source: 'rate_limit_event', taskId: null}, NOW)
      store.rateLimit.clear('seven_day', NOW + 10)
      expect(store.rateLimit.current(NOW + 10)).not.toBeNull()
      store.rateLimit.clear('five_hour', NOW + 20)
      expect(store.rateLimit.current(NOW + 20)).toBeNull()
    } finally {
      store.close()
    }
  })
})
