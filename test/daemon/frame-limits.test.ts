// Frames at the edge of the protocol, against a real daemon: acks of what was never sent, text
// frames that are not UTF-8, oversize and deeply nested values, and the one rule for refs (a
// branch NAME is never "@"; fromRef may be). Each is refused with the right code naming the
// field, the daemon never disconnects and keeps serving.
import {randomUUID} from 'node:crypto'
import {beforeAll, describe, expect, test} from 'vitest'

import {daemonWorld, useDaemonCleanup, type DaemonWorld} from '../support/daemon-world.js'
import {waitFor} from '../support/processes.js'
import {refused} from '../support/refusals.js'
import {byPrompt, startScriptedApi} from '../support/scripted-api.js'

useDaemonCleanup()

let w: DaemonWorld
let done: string

beforeAll(async () => {
  const api = await startScriptedApi(byPrompt({'quick task': {text: 'quick answer'}}))
  w = await daemonWorld(api)
  await w.startDaemon()
  done = w.spawnTask('quick task')
  await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === done, 60_000)
})

const id = () => randomUUID()
const outboxSeqs = () => w.query('SELECT seq FROM outbox ORDER BY seq').map((r: any) => r.seq as number)
/** the daemon is still connected on its first connection, and answers a command */
async function stillServing(): Promise<void> {
  expect(w.daemon!.exit).toBeUndefined()
  expect(w.server.connections).toBe(1)
  expect(w.server.closeCodes).toEqual([])
  const status = await w.request({type: 'mergeStatus', taskId: done}, 'mergeStatusResponse')
  expect(status).toMatchObject({type: 'mergeStatusResponse', taskId: done, inProgress: false})
}

describe('acks', () => {
  test('a negative, fractional or never-sent seq is INVALID_FIELD and deletes nothing', async () => {
    w.server.ack = 'off'
    try {
      // the commandError and the answer stay in the outbox: nothing acks them
      const first = (await w.request({type: 'mergeStatus', taskId: id()}, 'mergeStatusResponse')).seq as number
      expect(outboxSeqs()).toContain(first) // (only an ack deletes, and the server sends none)
      for (const seq of [first + 0.5, -1, 'all']) {
        await refused(w, {type: 'ack', seq}, {code: 'INVALID_FIELD', message: /ack\.seq/})
        expect(outboxSeqs()).toContain(first)
      }
      const last = outboxSeqs().at(-1)!
      const beyond = await refused(w, {type: 'ack', seq: last + 1000}, {code: 'INVALID_FIELD', message: /ack\.seq.*past the last message sent/})
      expect(beyond.error.message).toContain(String(last + 1000))
      // a proper ack of `first` alone: acks are applied in order (the highest seen, on a short
      // timer), so once it has deleted `first`, a refused ack that had counted would have deleted
      // the later messages too
      const later = outboxSeqs().filter((s) => s > first)
      expect(later.length).toBeGreaterThan(0)
      w.server.ackUpTo(first)
      await waitFor(() => !outboxSeqs().includes(first), {timeoutMs: 5000, description: `the ack of seq ${first} applied`})
      expect(outboxSeqs()).toEqual(expect.arrayContaining(later))
      // a proper ack still works
      const upTo = outboxSeqs().at(-1)!
      w.server.ackUpTo(upTo)
      await waitFor(() => !outboxSeqs().some((s) => s <= upTo), {timeoutMs: 5000, description: `the ack of seq ${upTo} applied`})
    } finally {
      w.server.ack = 'on'
    }
    await stillServing()
  })
})

describe('text frames that are not UTF-8', () => {
  test('answered INVALID_JSON; the connection stays open', async () => {
    const from = w.server.messages.length
    w.server.sendTextBytes(Buffer.from([0x7b, 0x22, 0x74, 0xff, 0xfe, 0x22, 0x7d])) // {"t\xff\xfe"}
    const error = await w.server.waitForMessage((m) => m.type === 'commandError', 10_000, 'a commandError', from)
    expect(error).toMatchObject({commandType: 'unknown', code: 'INVALID_JSON', message: expect.stringMatching(/UTF-8/)})
    await stillServing()
  })
})

describe('oversize and deeply nested values', () => {
  const MB = 1024 * 1024
  const deep = (depth: number) => JSON.parse('['.repeat(depth) + ']'.repeat(depth))

  test('deep conversationHistory / context: INVALID_FIELD naming the field', async () => {
    const taskId = id()
    const frame = `{"type":"spawnTask","taskId":"${taskId}","taskName":"deep","plan":"quick task","conversationHistory":${'['.repeat(200_000)}${']'.repeat(200_000)}}`
    await refused(w, frame, {code: 'INVALID_FIELD', message: /spawnTask\.conversationHistory: nests deeper than 64 levels/})
    expect(w.query('SELECT id FROM tasks WHERE id = ?', taskId)).toEqual([])
    await refused(w, {type: 'injectSiblingContext', taskId: done, context: {a: deep(100)}}, {code: 'INVALID_FIELD', message: /injectSiblingContext\.context/})
    // 64 levels are fine
    const from = w.server.messages.length
    w.server.send({type: 'injectSiblingContext', taskId: done, context: deep(63)})
    // stillServing() has the answer to a later frame: frames are handled in order, so a
    // commandError for this one would have come first
    await stillServing()
    expect(w.server.messages.slice(from).filter((m) => m.msg.type === 'commandError')).toEqual([])
  })

  test('1 MB branch names and refs, 1 MB paths, 1 MB messages: INVALID_FIELD naming the field', async () => {
    const big = 'a'.repeat(MB)
    const cases: [object, RegExp, string?][] = [
      [{type: 'createBranch', taskId: done, branchName: big}, /createBranch\.branchName.*longer than 255 bytes/, 'branchCreated'],
      [{type: 'createBranch', taskId: done, branchName: 'fine', fromRef: big}, /createBranch\.fromRef.*longer than 255 bytes/, 'branchCreated'],
      [{type: 'mergeStart', taskId: done, sourceBranch: big}, /mergeStart\.sourceBranch/, 'mergeResult'],
      [{type: 'mergeTaskToTarget', taskId: done, targetBranch: big}, /mergeTaskToTarget\.targetBranch/, 'mergeToTargetResult'],
      [{type: 'spawnTask', taskId: id(), taskName: 'x', plan: 'p', baseBranch: big}, /spawnTask\.baseBranch/],
      [{type: 'readRepoFile', requestId: id(), contractId: id(), repoPath: w.repo.dir, filePath: big}, /readRepoFile\.filePath.*longer than 4096 bytes/, 'repoFileContent'],
      [{type: 'readRepoFile', requestId: id(), contractId: id(), repoPath: `/${big}`, filePath: 'README.md'}, /readRepoFile\.repoPath/, 'repoFileContent'],
      [{type: 'readRepoFile', requestId: id(), contractId: id(), repoPath: w.repo.dir, filePath: `${'b'.repeat(300)}/x`}, /readRepoFile\.filePath.*component.*255 bytes/, 'repoFileContent'],
      [{type: 'cloneWorktree', taskId: done, targetDir: `/tmp/${big}`}, /cloneWorktree\.targetDir/, 'cloneWorktreeResult'],
      [{type: 'checkTargetExists', taskId: done, targetDir: `/tmp/${big}`}, /checkTargetExists\.targetDir/, 'checkTargetExistsResult'],
      [{type: 'inheritGitConfig', sourceDir: `/tmp/${big}`}, /inheritGitConfig\.sourceDir/, 'gitConfigInherited'],
      [{type: 'mergeResolve', taskId: done, file: big, strategy: 'ours'}, /mergeResolve\.file/, 'mergeResult'],
      [{type: 'createCheckpoint', taskId: done, message: big}, /createCheckpoint\.message.*over the 65536 bytes limit/, 'checkpointCreated'],
      [{type: 'mergeCommit', taskId: done, message: big}, /mergeCommit\.message/, 'mergeResult'],
      [{type: 'createPR', taskId: done, title: big, baseBranch: 'main'}, /createPR\.title/, 'prCreated'],
      [{type: 'spawnTask', taskId: id(), taskName: big, plan: 'p'}, /spawnTask\.taskName/],
      [{type: 'spawnTask', taskId: id(), taskName: 'x', plan: 'p', repoUrl: `/${big}`}, /spawnTask\.repoUrl/],
    ]
    for (const [frame, message, answer] of cases) {
      const r = await refused(w, frame, {code: 'INVALID_FIELD', message, answer})
      expect(JSON.stringify(r).length, JSON.stringify(frame).slice(0, 100)).toBeLessThan(16_384)
    }
    await stillServing()
  })
})

describe('refs: one rule', () => {
  test('"@" is not a branch name in any branch field; fromRef "@" (HEAD) creates a branch at HEAD', async () => {
    for (const [frame, answer] of [
      [{type: 'createBranch', taskId: done, branchName: '@'}, 'branchCreated'],
      [{type: 'mergeStart', taskId: done, sourceBranch: '@'}, 'mergeResult'],
      [{type: 'mergeTaskToTarget', taskId: done, targetBranch: '@'}, 'mergeToTargetResult'],
      [{type: 'createPR', taskId: done, title: 't', baseBranch: '@'}, 'prCreated'],
      [{type: 'retryCompletionAction', taskId: done, taskName: 't', action: 'branch', targetRepoPath: w.repo.dir, targetBranch: '@'}, 'completionActionResult'],
      [{type: 'spawnTask', taskId: id(), taskName: 'x', plan: 'p', repoUrl: w.repo.dir, baseBranch: '@'}, undefined],
      [{type: 'spawnTask', taskId: id(), taskName: 'x', plan: 'p', repoUrl: w.repo.dir, targetBranch: 'HEAD'}, undefined],
    ] as const) {
      await refused(w, frame, {code: 'INVALID_FIELD', message: /"(@|HEAD)" names the current commit, not a branch/, answer})
    }
    const created = await w.request({type: 'createBranch', taskId: done, branchName: 'from-at', fromRef: '@'}, 'branchCreated')
    expect(created).toMatchObject({success: true, branchName: 'from-at'})
    const task = await w.json(['task', 'show', done])
    expect(w.repo.git('rev-parse', 'from-at')).toBe(w.repo.git('-C', task.worktreePath, 'rev-parse', 'HEAD'))
    await refused(
      w,
      {type: 'createBranch', taskId: done, branchName: 'x', fromRef: 'main~1'},
      {code: 'INVALID_FIELD', message: /fromRef.*revision is a branch name, HEAD, @ or a commit sha/, answer: 'branchCreated'},
    )
  })
})
