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
})
