import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {projectRoot} from '../support/env.js'
import {parseStreamLine, userMessageLine, type ClaudeEvent} from '../../src/lib/claude/stream-event.js'
import {authFailureOf} from '../../src/lib/claude/auth-failure.js'
import {resetTimeOf} from '../../src/lib/claude/rate-limit.js'

const FIXTURES = join(projectRoot, 'test', 'fixtures', 'claude-stream-json')

/**
 * The recorded output of both Claude Code versions makima is tested with (README there): what
 * differs between them besides ids and timings is the model, the field order of the result line
 * (2.1.332: not `type` first) and total_cost_usd (2.1.332: a total of the session).
 */
const VERSIONS = [
  {
    version: '2.1.197',
    dir: FIXTURES,
    model: /^claude-opus-4-8/,
    resultStartsWithType: true,
    print: {durationMs: 265, costUsd: 0.00039},
    retries: {file: 'auth-401-first25s.jsonl', count: 6, firstDelayMs: 529.68},
  },
  {
    version: '2.1.332',
    dir: join(FIXTURES, '2.1.332'),
    model: /^claude-opus-5-5/,
    resultStartsWithType: false,
    print: {durationMs: 405, costUsd: 0.000072},
    retries: {file: 'auth-401-retries.jsonl', count: 2, firstDelayMs: 534},
  },
]

function lines(dir: string, file: string): string[] {
  return readFileSync(join(dir, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
}

function only<K extends ClaudeEvent['kind']>(events: ClaudeEvent[], kind: K): Extract<ClaudeEvent, {kind: K}>[] {
  return events.filter((e): e is Extract<ClaudeEvent, {kind: K}> => e.kind === kind)
}

describe.each(VERSIONS)('parseStreamLine on the real output of Claude Code $version', ({version, dir, model, resultStartsWithType, print, retries}) => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'))
  const load = (file: string): ClaudeEvent[] => lines(dir, file).map(parseStreamLine)

  it('finds the fixture files', () => {
    expect(files.length).toBeGreaterThanOrEqual(7)
  })

  it.each(files)('%s: no line is invalid, first is init with a session id', (file) => {
    const events = load(file)
    expect(events.length).toBeGreaterThan(0)
    expect(events.filter((e) => e.kind === 'invalid')).toEqual([])
    const first = events[0]
    expect(first.kind).toBe('init')
    if (first.kind !== 'init') return
    expect(first.sessionId).toMatch(/^[0-9a-f-]{36}$/)
    expect(first.cwd).toBe('/home/dev/app')
    // the rate-limit fixtures log in with an OAuth token, which picks another default model
    expect(first.model).toMatch(/^(rate-limit|usage-limit)-/.test(file) ? /^claude-/ : model)
    expect(first.tools).toContain('Bash')
    expect(first.version).toBe(version)
    // session_id is on every line
    for (const e of events) {
      if (e.kind !== 'invalid' && e.kind !== 'unknown') expect(e.sessionId).toBe(first.sessionId)
    }
  })

  it('print-twofiles: init, two Bash tool_use, tool_results, text, success result', () => {
    const resultLine = lines(dir, 'print-twofiles.jsonl').at(-1)!
    // the field order differs between the versions; the parser reads fields by name
    expect(resultLine.startsWith('{"type":"result"')).toBe(resultStartsWithType)
    const events = load('print-twofiles.jsonl')
    expect(events.map((e) => e.kind)).toEqual(['init', 'assistant', 'user', 'assistant', 'user', 'assistant', 'result'])

    const toolUses = only(events, 'assistant').flatMap((e) => e.content.filter((b) => b.type === 'tool_use'))
    expect(toolUses).toHaveLength(2)
    expect(toolUses.map((b) => b.type === 'tool_use' && b.name)).toEqual(['Bash', 'Bash'])
    const ids = toolUses.map((b) => (b.type === 'tool_use' ? b.id : ''))
    const first = toolUses[0]
    expect(first.type === 'tool_use' && first.id).toMatch(/^toolu_/)
    expect(first.type === 'tool_use' && first.input.command).toBe('mkdir -p src && printf "export const a = 1;\\n" > src/a.ts')

    const results = only(events, 'user').flatMap((e) => e.content)
    expect(results).toEqual([
      {type: 'tool_result', toolUseId: ids[0], content: '(Bash completed with no output)', isError: false},
      {type: 'tool_result', toolUseId: ids[1], content: '?? src/', isError: false},
    ])
    for (const a of only(events, 'assistant')) {
      expect(a.synthetic).toBe(false)
      expect(a.parentToolUseId).toBeNull()
    }

    const [result] = only(events, 'result')
    expect(result).toMatchObject({
      isError: false,
      apiErrorStatus: null,
      subtype: 'success',
      result: 'Wrote src/a.ts and src/b.ts.',
      durationMs: print.durationMs,
      numTurns: 3,
    })
    expect(result.costUsd).toBeCloseTo(print.costUsd, 8)
    expect(events.some((e) => authFailureOf(e) !== null)).toBe(false)
  })

  it('api-500: synthetic assistant and an error result with status 500, not an auth failure', () => {
    const events = load('api-500.jsonl')
    const [assistant] = only(events, 'assistant')
    expect(assistant.synthetic).toBe(true)
    expect(assistant.error).toBe('server_error')
    const [result] = only(events, 'result')
    expect(result.isError).toBe(true)
    expect(result.apiErrorStatus).toBe(500)
    expect(result.subtype).toBe('success')
    expect(result.result).toMatch(/^API Error: 500 scripted failure/)
    expect(events.map(authFailureOf)).toEqual([null, null, null])
  })

  // Rate limits (issue 19 §3), recorded from both versions: scripts/record-claude-rate-limits.mjs, fixtures README.
  describe('rate limits', () => {
    it('rate-limit-retry (API key): a 429 with retry-after 1 is an api_retry of 429 with its delay, then the run succeeds', () => {
      const events = load(`rate-limit-retry-${version}.jsonl`)
      expect(events.map((e) => e.kind)).toEqual(['init', 'api_retry', 'assistant', 'result'])
      const [retry] = only(events, 'api_retry')
      expect(retry).toMatchObject({attempt: 1, errorStatus: 429, error: 'rate_limit'})
      expect(retry.retryDelayMs).toBeGreaterThanOrEqual(1000) // retry-after: 1 (2.1.332 adds jitter)
      expect(only(events, 'result')[0]).toMatchObject({isError: false, usageLimit: null})
      expect(events.map(authFailureOf).every((a) => a === null)).toBe(true)
    })

    for (const file of ['usage-limit', 'usage-limit-from-429']) {
      it(`${file} (OAuth login): a rejected rate_limit_event with resetsAt, then an error result that names the limit and its reset`, () => {
        const events = load(`${file}-${version}.jsonl`)
        expect(events.map((e) => e.kind)).toEqual(['init', 'rate_limit', 'assistant', 'result'])
        const [event] = only(events, 'rate_limit')
        expect(event.info).toMatchObject({status: 'rejected', rateLimitType: 'five_hour'})
        expect(event.info.resetsAtMs).toBe((event.raw.rate_limit_info as {resetsAt: number}).resetsAt * 1000)
        const [assistant] = only(events, 'assistant')
        expect(assistant).toMatchObject({synthetic: true, error: 'rate_limit'})
        const [result] = only(events, 'result')
        expect(result).toMatchObject({isError: true, apiErrorStatus: 429})
        // 2.1.197 says "session limit", 2.1.332 "5-hour limit"; both "resets 5am (UTC)" on this UTC machine
        expect(result.usageLimit?.limit).toBe(version === '2.1.197' ? 'session' : '5-hour')
        expect(result.usageLimit?.text).toMatch(/^You've hit your (session|5-hour) limit · resets \d{1,2}(:\d\d)?[ap]m \(UTC\)$/)
        // read as of the recording (an hour or less before the reset), the text's time is the event's reset, cut to the minute
        const fromText = resetTimeOf(result.result!, event.info.resetsAtMs! - 3_500_000)!
        expect(event.info.resetsAtMs! - fromText).toBeGreaterThanOrEqual(-60_000)
        expect(event.info.resetsAtMs! - fromText).toBeLessThan(3_600_000)
        expect(events.map(authFailureOf).every((a) => a === null)).toBe(true)
      })
    }

    it('rate-limit-allowed (OAuth login): a success carries a rate_limit_event that says allowed, not a usage limit', () => {
      const events = load(`rate-limit-allowed-${version}.jsonl`)
      const [event] = only(events, 'rate_limit')
      expect(event.info).toMatchObject({status: 'allowed', rateLimitType: 'seven_day'})
      expect(only(events, 'result')[0]).toMatchObject({isError: false, usageLimit: null})
    })
  })

  it(`${retries.file}: api_retry 401 lines, the first one already an auth failure`, () => {
    const events = load(retries.file)
    const retryEvents = only(events, 'api_retry')
    expect(retryEvents).toHaveLength(retries.count)
    expect(retryEvents[0]).toMatchObject({attempt: 1, maxRetries: 10, errorStatus: 401, error: 'authentication_failed'})
    expect(retryEvents[0].retryDelayMs).toBeCloseTo(retries.firstDelayMs, 1)
    const firstRetryIndex = events.findIndex((e) => e.kind === 'api_retry')
    expect(firstRetryIndex).toBe(1)
    expect(authFailureOf(events[0])).toBeNull()
    expect(authFailureOf(events[firstRetryIndex])).toMatch(/401/)
    expect(only(events, 'result')).toHaveLength(0)
  })

  it('auth-401: the synthetic assistant and the 401 result are auth failures', () => {
    const events = load('auth-401.jsonl')
    const reasons = events.map(authFailureOf)
    expect(reasons[0]).toBeNull()
    expect(reasons[1]).toMatch(/OAuth token has expired/)
    expect(reasons[2]).toMatch(/OAuth token has expired/)
    const [result] = only(events, 'result')
    expect(result).toMatchObject({isError: true, apiErrorStatus: 401})
  })

  it('input-chat: two turns, two results', () => {
    const events = load('input-chat.jsonl')
    const results = only(events, 'result')
    expect(results.map((r) => r.result)).toEqual(['ready for follow-ups', 'echo: second message'])
    expect(results.every((r) => !r.isError)).toBe(true)
    expect(only(events, 'init')).toHaveLength(2)
  })

  it.each([
    ['resume.jsonl', 'echo: resumed message'],
    ['continue.jsonl', 'echo: continued message'],
  ])('%s: session id of the chat captured', (file, text) => {
    const chat = load('input-chat.jsonl')[0]
    const chatSession = chat.kind === 'init' ? chat.sessionId : null
    expect(chatSession).toMatch(/^[0-9a-f-]{36}$/)
    const events = load(file)
    expect(events[0].kind === 'init' && events[0].sessionId).toBe(chatSession)
    const [result] = only(events, 'result')
    expect(result.sessionId).toBe(chatSession)
    expect(result.result).toBe(text)
  })
})

describe('parseStreamLine on the real output of Claude Code 2.1.197 only', () => {
  it('slow: task_started and task_notification are plain system events', () => {
    const events = lines(FIXTURES, 'slow.jsonl').map(parseStreamLine)
    expect(only(events, 'system').map((e) => e.subtype)).toEqual(['task_started', 'task_notification'])
  })
})

describe('parseStreamLine edge cases', () => {
  it('garbage text is invalid', () => {
    const e = parseStreamLine('Error: something went wrong')
    expect(e).toEqual({kind: 'invalid', line: 'Error: something went wrong', error: 'not a JSON object'})
  })

  it('empty and partial lines are invalid', () => {
    expect(parseStreamLine('').kind).toBe('invalid')
    expect(parseStreamLine('   ').kind).toBe('invalid')
    const partial = parseStreamLine('{"type":"assistant","message":{"content":[')
    expect(partial.kind).toBe('invalid')
    expect(partial.kind === 'invalid' && partial.error.length).toBeGreaterThan(0)
  })

  it('JSON that is not an object is invalid', () => {
    expect(parseStreamLine('[{"type":"result"}]').kind).toBe('invalid')
    expect(parseStreamLine('42').kind).toBe('invalid')
    expect(parseStreamLine('null').kind).toBe('invalid')
    expect(parseStreamLine('"text"').kind).toBe('invalid')
  })

  it('unknown types are unknown, with the type and the object', () => {
    const e = parseStreamLine('{"type":"stream_event","event":{"status":"allowed"}}')
    expect(e.kind).toBe('unknown')
    expect(e.kind === 'unknown' && e.type).toBe('stream_event')
    expect(e.kind === 'unknown' && e.raw.event).toEqual({status: 'allowed'})
    const noType = parseStreamLine('{"foo":1}')
    expect(noType).toEqual({kind: 'unknown', type: null, raw: {foo: 1}})
  })

  it('accepts a trailing newline / CRLF', () => {
    expect(parseStreamLine('{"type":"result","is_error":false}\r\n').kind).toBe('result')
  })

  it('missing fields give defaults instead of throwing', () => {
    expect(parseStreamLine('{"type":"system"}')).toMatchObject({kind: 'system', subtype: '', sessionId: null})
    expect(parseStreamLine('{"type":"system","subtype":"init"}')).toMatchObject({
      kind: 'init',
      sessionId: null,
      cwd: null,
      model: null,
      tools: [],
    })
    expect(parseStreamLine('{"type":"system","subtype":"api_retry"}')).toMatchObject({
      kind: 'api_retry',
      attempt: 0,
      maxRetries: 0,
      errorStatus: null,
      error: null,
      retryDelayMs: 0,
    })
    expect(parseStreamLine('{"type":"assistant"}')).toMatchObject({
      kind: 'assistant',
      content: [],
      synthetic: false,
      parentToolUseId: null,
      error: null,
    })
    expect(parseStreamLine('{"type":"user","message":null}')).toMatchObject({kind: 'user', content: []})
    expect(parseStreamLine('{"type":"result","is_error":"yes","total_cost_usd":"1"}')).toMatchObject({
      kind: 'result',
      isError: false,
      apiErrorStatus: null,
      subtype: '',
      result: null,
      durationMs: 0,
      costUsd: null,
      numTurns: 0,
    })
    const weird = parseStreamLine('{"type":"assistant","message":{"content":[null,7,{"type":"tool_use"},{"type":"text"}]}}')
    expect(weird.kind === 'assistant' && weird.content).toEqual([
      {type: 'other', raw: null},
      {type: 'other', raw: 7},
      {type: 'tool_use', id: '', name: '', input: {}},
      {type: 'other', raw: {type: 'text'}},
    ])
  })

  it('user content as a plain string becomes a text block', () => {
    const e = parseStreamLine('{"type":"user","message":{"role":"user","content":"hello"},"session_id":"s1"}')
    expect(e).toMatchObject({kind: 'user', sessionId: 's1', content: [{type: 'text', text: 'hello'}]})
  })

  it('flattens array tool_result content and keeps thinking and subagent parent', () => {
    const line = JSON.stringify({
      type: 'user',
      parent_tool_use_id: 'toolu_parent',
      message: {
        content: [
          {
            type: 'tool_result',
            tool_use_id: 't9',
            is_error: true,
            content: [
              {type: 'text', text: 'line one'},
              {type: 'image', source: {}},
              {type: 'text', text: 'line two'},
            ],
          },
        ],
      },
    })
    const e = parseStreamLine(line)
    expect(e.kind === 'user' && e.parentToolUseId).toBe('toolu_parent')
    expect(e.kind === 'user' && e.content).toEqual([{type: 'tool_result', toolUseId: 't9', content: 'line one\n[image]\nline two', isError: true}])
    const t = parseStreamLine('{"type":"assistant","message":{"content":[{"type":"thinking","thinking":"hmm","signature":"x"}]}}')
    expect(t.kind === 'assistant' && t.content).toEqual([{type: 'thinking', text: 'hmm'}])
  })
})

describe('authFailureOf', () => {
  it('older text signatures on synthetic assistant text and error results', () => {
    const synthetic = (text: string) => parseStreamLine(JSON.stringify({type: 'assistant', message: {model: '<synthetic>', content: [{type: 'text', text}]}}))
    expect(authFailureOf(synthetic('Invalid API key · Please run /login'))).toBe('Invalid API key · Please run /login')
    expect(authFailureOf(synthetic('API Error: 401 {"type":"error","error":{"type":"authentication_error"}}'))).not.toBeNull()
    expect(authFailureOf(synthetic('API Error: 529 overloaded'))).toBeNull()
    const errResult = parseStreamLine(JSON.stringify({type: 'result', is_error: true, result: 'OAuth token has expired'}))
    expect(authFailureOf(errResult)).toBe('OAuth token has expired')
  })

  it('does not flag ordinary model text or successful results that mention those words', () => {
    const modelText = parseStreamLine(JSON.stringify({type: 'assistant', message: {model: 'claude-opus-4-8', content: [{type: 'text', text: 'Fixed the "Invalid API key" message'}]}}))
    expect(authFailureOf(modelText)).toBeNull()
    const ok = parseStreamLine(JSON.stringify({type: 'result', is_error: false, result: 'Please run /login handled'}))
    expect(authFailureOf(ok)).toBeNull()
    const retry500 = parseStreamLine('{"type":"system","subtype":"api_retry","attempt":1,"max_retries":10,"error_status":500,"error":"server_error"}')
    expect(authFailureOf(retry500)).toBeNull()
  })
})

describe('userMessageLine', () => {
  it('is one JSON line Claude Code takes on stdin, round-tripping the text', () => {
    const text = 'line one\nline "two" ✓'
    const line = userMessageLine(text)
    expect(line).not.toContain('\n')
    expect(JSON.parse(line)).toEqual({type: 'user', message: {role: 'user', content: text}})
    expect(parseStreamLine(line)).toMatchObject({kind: 'user', content: [{type: 'text', text}]})
  })
})
