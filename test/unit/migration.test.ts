// The pieces of a task's move between daemons that need no daemon (src/lib/daemon/migration.ts):
// the patch decoding and the first message of a moved task.
import {gzipSync} from 'node:zlib'
import {describe, expect, test} from 'vitest'

import {decodeCheckpointPatch, firstMessageOf, historyText} from '../../src/lib/daemon/migration.js'

const DIFF = 'diff --git a/a.txt b/a.txt\nnew file mode 100644\n--- /dev/null\n+++ b/a.txt\n@@ -0,0 +1 @@\n+a\n'
const spawn = (fields: Record<string, unknown>) =>
  ({taskId: 'x', taskName: 'x', plan: 'the plan', depth: 0, isOrchestrator: false, isSupervisor: false, autonomousLoop: false, resumeSession: false, ...fields}) as any

describe('migration', () => {
  test('decodeCheckpointPatch: base64 of gzip (or of a plain diff) to the diff; an empty patch is fine', () => {
    expect(decodeCheckpointPatch(gzipSync(DIFF).toString('base64')).toString()).toBe(DIFF)
    expect(decodeCheckpointPatch(Buffer.from(DIFF).toString('base64')).toString()).toBe(DIFF)
    const wrapped = gzipSync(DIFF)
      .toString('base64')
      .replace(/(.{20})/g, '$1\n')
    expect(decodeCheckpointPatch(wrapped).toString()).toBe(DIFF)
    expect(decodeCheckpointPatch(gzipSync('').toString('base64')).length).toBe(0)
    expect(() => decodeCheckpointPatch('a=bc')).toThrow(/spawnTask\.patchData does not decode: it is not base64/)
    expect(() => decodeCheckpointPatch(gzipSync(DIFF).subarray(0, 20).toString('base64'))).toThrow(/gzip data is damaged/)
  })

  test('historyText keeps the most recent part of a long history and says what was left out', () => {
    const history = Array.from({length: 100}, (_, i) => ({role: i % 2 ? 'assistant' : 'user', content: `turn ${i} ${'x'.repeat(80)}`}))
    const text = historyText(history, 1000)
    expect(text.length).toBeLessThan(1100)
    expect(text).toMatch(/^\[the \d+ earliest of 100 entries are left out\]\n/)
    expect(text).toContain('turn 99 ')
    expect(text).not.toContain('turn 0 ')
    expect(historyText(history.slice(0, 2))).toBe(
      history
        .slice(0, 2)
        .map((e) => JSON.stringify(e))
        .join('\n'),
    )
    expect(historyText('y'.repeat(50), 20)).toBe(`[the first 30 characters are left out]\n${'y'.repeat(20)}`)
    expect(historyText({a: 1})).toBe('{\n  "a": 1\n}')
  })

  test('firstMessageOf: the plan alone, the plan with a note for a move, the history before the plan', () => {
    expect(firstMessageOf(spawn({}))).toBe('the plan')
    expect(firstMessageOf(spawn({patchData: 'x', patchBaseSha: 'abcdef1'}))).toBe('the plan')
    const moved = firstMessageOf(spawn({patchData: 'x', patchBaseSha: 'abcdef1', resumeSession: true}))
    expect(moved).toMatch(/^This task was started before on another machine and has moved here/)
    expect(moved).toMatch(/The work done so far is already in this worktree[^]*\n\nThe task:\n\nthe plan$/)
    const withHistory = firstMessageOf(spawn({patchData: 'x', patchBaseSha: 'abcdef1', resumeSession: true, conversationHistory: ['HISTORY-LINE']}))
    expect(withHistory).toMatch(/<conversation-history>\nHISTORY-LINE\n<\/conversation-history>\n\nThe work done so far is already in this worktree/)
    expect(withHistory.endsWith('with this task:\n\nthe plan')).toBe(true)
    expect(firstMessageOf(spawn({conversationHistory: 'earlier'}))).not.toContain('The work done so far')
  })
})
