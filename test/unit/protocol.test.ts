import {describe, expect, it} from 'vitest'

import {parseCommand} from '../../src/lib/daemon/protocol.js'

const taskId = '0f2e9f2a-3f7e-41e8-a0d6-feb09cb3eef6'

describe('parseCommand (protocol.md server -> daemon commands)', () => {
  it('accepts a spawnTask and fills the defaults; null means absent', () => {
    const result = parseCommand(JSON.stringify({type: 'spawnTask', taskId, taskName: 'x', plan: 'do it', repoUrl: null, baseBranch: 'main'}))
    expect(result).toMatchObject({ok: true, command: {type: 'spawnTask', taskId, depth: 0, isOrchestrator: false, autonomousLoop: false, resumeSession: false, baseBranch: 'main'}})
    expect(result.ok && 'repoUrl' in result.command ? result.command.repoUrl : 'absent').toBeUndefined()
  })

  it.each([
    ['not json', '{oops', 'INVALID_JSON'],
    ['an array', '[1,2]', 'INVALID_JSON'],
    ['no type', JSON.stringify({taskId}), 'UNKNOWN_COMMAND'],
    ['an unknown type', JSON.stringify({type: 'formatDisk', taskId}), 'UNKNOWN_COMMAND'],
    ['a missing field', JSON.stringify({type: 'mergeStart', taskId}), 'INVALID_FIELD'],
    ['a wrong type', JSON.stringify({type: 'pauseTask', taskId: 42}), 'INVALID_FIELD'],
    ['a non-UUID id', JSON.stringify({type: 'pauseTask', taskId: 'abc'}), 'INVALID_FIELD'],
    ['an uppercase UUID', JSON.stringify({type: 'pauseTask', taskId: taskId.toUpperCase()}), 'INVALID_FIELD'],
    ['an option-injection branch', JSON.stringify({type: 'mergeStart', taskId, sourceBranch: '--upload-pack=x'}), 'INVALID_FIELD'],
    ['a dotted branch', JSON.stringify({type: 'createBranch', taskId, branchName: 'a..b'}), 'INVALID_FIELD'],
    ['a traversal path', JSON.stringify({type: 'readRepoFile', requestId: taskId, contractId: taskId, filePath: '../../etc/passwd', repoPath: '/tmp'}), 'INVALID_FIELD'],
    ['an absolute copy path', JSON.stringify({type: 'spawnTask', taskId, taskName: 'x', plan: 'p', copyFiles: ['/etc/passwd']}), 'INVALID_FIELD'],
    ['a bad strategy', JSON.stringify({type: 'mergeResolve', taskId, file: 'a.txt', strategy: 'mine'}), 'INVALID_FIELD'],
    ['"@" as a branch name', JSON.stringify({type: 'mergeStart', taskId, sourceBranch: '@'}), 'INVALID_FIELD'],
    ['"HEAD" as a branch name', JSON.stringify({type: 'spawnTask', taskId, taskName: 'x', plan: 'p', baseBranch: 'HEAD'}), 'INVALID_FIELD'],
    ['a fromRef in revision syntax', JSON.stringify({type: 'createBranch', taskId, branchName: 'b', fromRef: 'main~1'}), 'INVALID_FIELD'],
    ['a relative repoPath', JSON.stringify({type: 'readRepoFile', requestId: taskId, contractId: taskId, filePath: 'a', repoPath: 'repo'}), 'INVALID_FIELD'],
    ['a 65-level conversationHistory', JSON.stringify({type: 'spawnTask', taskId, taskName: 'x', plan: 'p', conversationHistory: JSON.parse('['.repeat(65) + ']'.repeat(65))}), 'INVALID_FIELD'],
    ['a fractional ack', JSON.stringify({type: 'ack', seq: 1.5}), 'INVALID_FIELD'],
    ['a negative ack', JSON.stringify({type: 'ack', seq: -1}), 'INVALID_FIELD'],
  ])('rejects %s with %s and keeps the ids it could read', (_what, frame, code) => {
    const result = parseCommand(frame)
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.code).toBe(code)
    expect(result.message.length).toBeGreaterThan(5)
  })

  it('names the field and the value in the message', () => {
    const result = parseCommand(JSON.stringify({type: 'mergeStart', taskId, sourceBranch: '../x'}))
    expect(result).toMatchObject({ok: false, code: 'INVALID_FIELD', commandType: 'mergeStart', taskId})
    expect(!result.ok && result.message).toMatch(/sourceBranch.*"\.\.\/x"/)
  })

  it('rejects oversize and deeply nested values with INVALID_FIELD naming the field', () => {
    const cases: [object | string, RegExp][] = [
      [{type: 'createBranch', taskId, branchName: 'b'.repeat(256)}, /createBranch\.branchName.*longer than 255 bytes/],
      [{type: 'createBranch', taskId, branchName: 'b', fromRef: 'r'.repeat(256)}, /createBranch\.fromRef.*longer than 255 bytes/],
      [{type: 'cloneWorktree', taskId, targetDir: `/${'d/'.repeat(2500)}`}, /cloneWorktree\.targetDir.*longer than 4096 bytes/],
      [{type: 'mergeResolve', taskId, file: `${'f'.repeat(300)}.txt`, strategy: 'ours'}, /mergeResolve\.file.*component.*longer than 255 bytes/],
      [`{"type":"injectSiblingContext","taskId":"${taskId}","context":${'['.repeat(1_000_000)}${']'.repeat(1_000_000)}}`, /injectSiblingContext\.context: nests deeper than 64 levels/],
    ]
    for (const [frame, message] of cases) {
      const result = parseCommand(typeof frame === 'string' ? frame : JSON.stringify(frame))
      expect(result.ok).toBe(false)
      if (result.ok) continue
      expect(result.code).toBe('INVALID_FIELD')
      expect(result.message).toMatch(message)
      expect(result.message.length).toBeLessThan(1100)
    }
  })

  it('accepts the limits themselves: 255-byte branches, fromRef "@", HEAD and a sha, 64 levels of JSON, ~ paths', () => {
    const ok = (frame: object) => expect(parseCommand(JSON.stringify(frame)), JSON.stringify(frame).slice(0, 100)).toMatchObject({ok: true})
    ok({type: 'createBranch', taskId, branchName: 'b'.repeat(255)})
    for (const fromRef of ['@', 'HEAD', 'deadbeef', 'origin/main']) ok({type: 'createBranch', taskId, branchName: 'b', fromRef})
    ok({type: 'spawnTask', taskId, taskName: 'x', plan: 'p', conversationHistory: JSON.parse('['.repeat(64) + ']'.repeat(64))})
    ok({type: 'readRepoFile', requestId: taskId, contractId: taskId, filePath: 'a', repoPath: '~/repo'})
    ok({type: 'ack', seq: 0})
  })
})
