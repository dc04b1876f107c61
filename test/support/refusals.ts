// The daemon's answer to bad input (docs/protocol.md "Bad input"): a commandError with a code and
// a message a person can act on, then the command's own answer with success: false where it has one.
import {expect} from 'vitest'

import type {DaemonWorld} from './daemon-world.js'

export interface Expectation {
  code: string
  /** the answer type sent with success: false after the commandError */
  answer?: string
  /** the commandError message must match */
  message?: RegExp
}

/**
 * Sends a frame and returns the commandError for it (the next one after the send) and the
 * failure answer that must follow it.
 */
export async function refused(w: DaemonWorld, frame: string | object | Buffer, expected: Expectation): Promise<{error: any; answer?: any}> {
  const from = w.server.messages.length
  w.server.send(frame)
  const error = await w.server.waitForMessage((m) => m.type === 'commandError', 10_000, 'a commandError', from)
  expect(error.code, JSON.stringify(error)).toBe(expected.code)
  expect(typeof error.message).toBe('string')
  expect(error.message.length).toBeGreaterThan(10)
  expect(error.message.length).toBeLessThan(2000)
  if (expected.message) expect(error.message).toMatch(expected.message)
  let answer: any
  if (expected.answer) {
    answer = await w.server.waitForMessage((m) => m.type === expected.answer, 10_000, `a failure ${expected.answer}`, from)
    expect(answer.success, JSON.stringify(answer)).toBe(false)
    expect(answer.seq).toBeGreaterThan(error.seq)
  }
  return {error, answer}
}
