// The completion gate parser (src/lib/tasks/autonomous/readiness-gate.ts): the last block decides, and a
// block that cannot be read is reported with what is wrong, never taken as "no gate".
import {describe, expect, test} from 'vitest'

import {blockerKey, parseLastGate} from '../../src/lib/tasks/autonomous/readiness-gate.js'

const block = (json: string) => `<COMPLETION_GATE>\n${json}\n</COMPLETION_GATE>`

describe('parseLastGate', () => {
  test('no block at all', () => {
    expect(parseLastGate('')).toEqual({kind: 'none'})
    expect(parseLastGate('I did the work. ready: true')).toEqual({kind: 'none'})
  })

  test('a ready gate with its reason and blockers', () => {
    const text = `Done.\n${block('{"ready": true, "reason": "all tests pass", "blockers": []}')}`
    expect(parseLastGate(text)).toEqual({kind: 'gate', ready: true, reason: 'all tests pass', blockers: []})
  })

  test('a not-ready gate; blockers trimmed, empty ones dropped', () => {
    const text = block('{"ready": false, "reason": " tests missing ", "blockers": [" write tests ", "", "docs"]}')
    expect(parseLastGate(text)).toEqual({kind: 'gate', ready: false, reason: 'tests missing', blockers: ['write tests', 'docs']})
  })

  test('the LAST block decides, whatever came before', () => {
    const text = ['First I thought:', block('{"ready": true, "reason": "early"}'), 'but then the tests failed.', block('{"ready": false, "reason": "tests fail", "blockers": ["fix parser"]}')].join(
      '\n',
    )
    expect(parseLastGate(text)).toMatchObject({kind: 'gate', ready: false, reason: 'tests fail'})
    const reversed = [block('{"ready": false, "reason": "x"}'), block('{"ready": true, "reason": "now done"}')].join('\n')
    expect(parseLastGate(reversed)).toMatchObject({kind: 'gate', ready: true, reason: 'now done'})
  })

  test('a malformed last block is reported even when an earlier block was fine', () => {
    const text = [block('{"ready": true, "reason": "fine"}'), block('{"ready": true,}')].join('\n')
    const r = parseLastGate(text)
    expect(r.kind).toBe('malformed')
    if (r.kind === 'malformed') {
      expect(r.problem).toMatch(/^the COMPLETION_GATE block is not valid JSON: /)
      expect(r.raw).toBe('{"ready": true,}')
    }
  })

  test('JSON in a ```json fence, and tags in any case, are accepted', () => {
    expect(parseLastGate('<completion_gate>\n```json\n{"ready": true, "reason": "ok"}\n```\n</Completion_Gate>')).toMatchObject({kind: 'gate', ready: true})
  })

  test.each([
    ['{ready: false}', /not valid JSON/],
    ['', /is empty/],
    ['[true]', /not a JSON object/],
    ['"ready"', /not a JSON object/],
    ['{"reason": "no ready field"}', /has no "ready" field/],
    ['{"ready": "true"}', /"ready" in the COMPLETION_GATE block must be true or false, not "true"/],
    ['{"ready": 1}', /must be true or false, not 1/],
    ['{"ready": false, "reason": 42}', /"reason" .* must be a string/],
    ['{"ready": false, "blockers": "one"}', /"blockers" .* must be an array of strings/],
    ['{"ready": false, "blockers": [1, 2]}', /"blockers" .* must be an array of strings/],
  ])('malformed body %j', (json, problem) => {
    const r = parseLastGate(block(json))
    expect(r.kind).toBe('malformed')
    if (r.kind === 'malformed') expect(r.problem).toMatch(problem)
  })

  test('an unclosed block, and a closing tag alone, are malformed (not "no gate")', () => {
    const open = parseLastGate('text\n<COMPLETION_GATE>\n{"ready": true}')
    expect(open).toMatchObject({kind: 'malformed'})
    if (open.kind === 'malformed') expect(open.problem).toMatch(/not closed with <\/COMPLETION_GATE>/)
    const close = parseLastGate('{"ready": true}\n</COMPLETION_GATE>')
    expect(close).toMatchObject({kind: 'malformed'})
    if (close.kind === 'malformed') expect(close.problem).toMatch(/closing tag but no <COMPLETION_GATE>/)
  })

  test('missing reason and null blockers default to empty', () => {
    expect(parseLastGate(block('{"ready": false, "blockers": null}'))).toEqual({kind: 'gate', ready: false, reason: '', blockers: []})
  })
})

describe('blockerKey', () => {
  test('case, spacing and trailing punctuation do not make a blocker new', () => {
    expect(blockerKey('  Tests  FAIL in parser.  ')).toBe(blockerKey('tests fail in parser'))
    expect(blockerKey('tests fail in parser')).not.toBe(blockerKey('tests fail in lexer'))
  })
})
