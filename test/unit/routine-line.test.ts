// isRoutineLine (src/lib/claude/routine-line.ts): the output lines a run stores without parsing
// must never be ones that change its course (session, turn end, auth failure): checked on every
// real fixture of Claude Code's stream-json (both tested versions).
import {readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {projectRoot} from '../support/env.js'
import {parseStreamLine} from '../../src/lib/claude/stream-event.js'
import {authFailureOf} from '../../src/lib/claude/auth-failure.js'
import {isRoutineLine} from '../../src/lib/claude/routine-line.js'

const FIXTURES = join(projectRoot, 'test', 'fixtures', 'claude-stream-json')

describe('isRoutineLine: the lines a run does not parse', () => {
  it('skips only lines that cannot change the session, end a turn or show an auth failure (every fixture)', () => {
    let routine = 0
    // both tested Claude Code versions: 2.1.197 at the top, 2.1.332 in its folder
    const files = [FIXTURES, join(FIXTURES, '2.1.332')].flatMap((dir) =>
      readdirSync(dir)
        .filter((f) => f.endsWith('.jsonl'))
        .map((f) => join(dir, f)),
    )
    expect(files.length).toBeGreaterThanOrEqual(15)
    for (const file of files) {
      let session: string | null = null
      for (const line of readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')) {
        const event = parseStreamLine(line)
        if (isRoutineLine(line, session)) {
          routine++
          expect(event.kind === 'assistant' || event.kind === 'user' || event.kind === 'init', `${file}: ${line.slice(0, 80)}`).toBe(true)
          expect(authFailureOf(event)).toBeNull()
          expect('sessionId' in event && event.sessionId).toBe(session)
        } else if ('sessionId' in event && event.sessionId) {
          session = event.sessionId
        }
      }
    }
    expect(routine).toBeGreaterThan(10)
  })

  it('parses an assistant line of another session, a synthetic error message, results and anything before the session is known', () => {
    const [init, assistant, user] = readFileSync(join(FIXTURES, 'print-twofiles.jsonl'), 'utf8').split('\n')
    const session = (parseStreamLine(init) as {sessionId: string}).sessionId
    expect(isRoutineLine(assistant, session)).toBe(true)
    expect(isRoutineLine(user, session)).toBe(true)
    expect(isRoutineLine(init, session)).toBe(true)
    expect(isRoutineLine(assistant, null)).toBe(false)
    expect(isRoutineLine(assistant, '0f2e9f2a-3f7e-41e8-a0d6-feb09cb3eef6')).toBe(false)
    expect(isRoutineLine(assistant.replace('"model":"claude-opus-4-8"', '"model":"<synthetic>"'), session)).toBe(false)
    expect(isRoutineLine(` ${assistant}`, session)).toBe(false)
    const synthetic = readFileSync(join(FIXTURES, 'api-500.jsonl'), 'utf8')
      .split('\n')
      .find((l) => l.includes('<synthetic>'))!
    expect(isRoutineLine(synthetic, (parseStreamLine(synthetic) as {sessionId: string}).sessionId)).toBe(false)
  })
})
