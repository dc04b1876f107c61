// Bad input from the server (docs/protocol.md "Bad input"): each frame gets a commandError with
// the right code and a message a person can act on, plus the command's own answer with
// success: false where it has one; the daemon never crashes or disconnects, and keeps serving.
import {randomUUID} from 'node:crypto'
import {symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {beforeAll, describe, expect, test} from 'vitest'

import {daemonWorld, useDaemonCleanup, type DaemonWorld} from '../support/daemon-world.js'
import {refused as refuse, type Expectation} from '../support/refusals.js'
import {byPrompt, startScriptedApi, steps} from '../support/scripted-api.js'

useDaemonCleanup()

let w: DaemonWorld
/** a task of the daemon that completed (for state conflicts) */
let done: string

beforeAll(async () => {
  const api = await startScriptedApi(
    byPrompt({
      'quick task': {text: 'quick answer'},
      'still serving': steps({bash: 'echo still-serving'}, {text: 'served'}),
    }),
  )
  w = await daemonWorld(api)
  writeFileSync(join(w.t.root, 'outside-secret.txt'), 'do not read me\n')
  symlinkSync(join(w.t.root, 'outside-secret.txt'), join(w.repo.dir, 'escape-link'))
  await w.startDaemon()
  done = w.spawnTask('quick task')
  await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === done, 60_000)
})

/** the daemon's refusal of a frame (support/refusals.ts) */
const refused = (frame: string | object | Buffer, expected: Expectation) => refuse(w, frame, expected)

const id = () => randomUUID()

describe('frames that are not commands', () => {
  test('non-JSON, a JSON array, no type, an unknown type, an inherited property name', async () => {
    const bad = await refused('{"type": "spawnTask", oops', {code: 'INVALID_JSON', message: /JSON/})
    expect(bad.error.commandType).toBe('unknown')
    await refused('[1, 2, 3]', {code: 'INVALID_JSON', message: /object/})
    await refused('"just a string"', {code: 'INVALID_JSON'})
    await refused({taskId: id()}, {code: 'UNKNOWN_COMMAND', message: /type/})
    const unknown = await refused({type: 'launchMissiles', taskId: done}, {code: 'UNKNOWN_COMMAND', message: /launchMissiles/})
    expect(unknown.error).toMatchObject({commandType: 'launchMissiles', taskId: done})
    await refused({type: 'constructor'}, {code: 'UNKNOWN_COMMAND'})
    await refused({type: '__proto__'}, {code: 'UNKNOWN_COMMAND'})
    await refused({type: 42}, {code: 'UNKNOWN_COMMAND'})
  })

  test('a binary frame is ignored with a warning', async () => {
    const before = w.server.messages.length
    w.server.send(Buffer.from([1, 2, 3]))
    await w.daemon!.waitForOutput(/binary frame/, 5000, 'stderr')
    // a later frame's commandError: frames of a connection are handled in order, so an answer to
    // the binary frame would have come before it
    const probe = await refused({type: 'launchMissiles'}, {code: 'UNKNOWN_COMMAND'})
    expect(
      w.server.messages
        .slice(before)
        .filter((m) => m.msg.type === 'commandError')
        .map((m) => m.msg),
    ).toEqual([probe.error])
  })
})

describe('fields', () => {
  test('missing, wrong-typed and non-UUID fields are INVALID_FIELD, naming the field', async () => {
    const missing = await refused({type: 'pauseTask'}, {code: 'INVALID_FIELD', message: /taskId/})
    expect(missing.error.commandType).toBe('pauseTask')
    await refused({type: 'pauseTask', taskId: 42}, {code: 'INVALID_FIELD', message: /taskId/})
    await refused({type: 'pauseTask', taskId: 'not-a-uuid'}, {code: 'INVALID_FIELD', message: /UUID/})
    await refused({type: 'pauseTask', taskId: id().toUpperCase()}, {code: 'INVALID_FIELD', message: /UUID/})
    await refused({type: 'interruptTask', taskId: done, graceful: 'yes'}, {code: 'INVALID_FIELD', message: /graceful/})
    await refused({type: 'spawnTask', taskId: id(), taskName: 'x'}, {code: 'INVALID_FIELD', message: /plan/})
    await refused({type: 'spawnTask', taskId: id(), taskName: 'x', plan: 'p', depth: 1.5}, {code: 'INVALID_FIELD', message: /depth/})
    await refused({type: 'spawnTask', taskId: id(), taskName: 'x', plan: 'p', completionAction: 'explode'}, {code: 'INVALID_FIELD', message: /completionAction/})
    await refused({type: 'mergeCommit', taskId: done}, {code: 'INVALID_FIELD', message: /message/, answer: 'mergeResult'})
    await refused({type: 'listBranches', taskId: 'nope'}, {code: 'INVALID_FIELD', answer: 'branchList'})
    await refused({type: 'checkMergeComplete', taskId: 7}, {code: 'INVALID_FIELD', answer: 'mergeCompleteCheck'})
    await refused({type: 'mergeSkip', taskId: done, subtaskId: 'x', reason: 'r'}, {code: 'INVALID_FIELD', message: /subtaskId/, answer: 'mergeResult'})
    await refused({type: 'mergeResolve', taskId: done, file: 'a.txt', strategy: 'mine'}, {code: 'INVALID_FIELD', message: /strategy/, answer: 'mergeResult'})
    await refused({type: 'createCheckpoint', taskId: done, message: ''}, {code: 'INVALID_FIELD', answer: 'checkpointCreated'})
    await refused({type: 'cleanupWorktree', taskId: done, deleteBranch: 'no'}, {code: 'INVALID_FIELD', answer: 'cleanupWorktreeResult'})
    await refused({type: 'getTaskDiff'}, {code: 'INVALID_FIELD', answer: 'taskDiff'})
    await refused({type: 'createPR', taskId: done, title: 'x'}, {code: 'INVALID_FIELD', message: /baseBranch/, answer: 'prCreated'})
    await refused({type: 'mergeTaskToTarget', taskId: done, squash: 'yes'}, {code: 'INVALID_FIELD', answer: 'mergeToTargetResult'})
    await refused({type: 'retryCompletionAction', taskId: done, taskName: 't', action: 'none2', targetRepoPath: w.repo.dir}, {code: 'INVALID_FIELD', answer: 'completionActionResult'})
    await refused({type: 'cloneWorktree', taskId: done}, {code: 'INVALID_FIELD', message: /targetDir/, answer: 'cloneWorktreeResult'})
    await refused({type: 'checkTargetExists', taskId: done, targetDir: ''}, {code: 'INVALID_FIELD', answer: 'checkTargetExistsResult'})
    await refused({type: 'inheritGitConfig', sourceDir: 5}, {code: 'INVALID_FIELD', answer: 'gitConfigInherited'})
    const noRequest = await refused(
      {type: 'readRepoFile', requestId: 'r1', contractId: id(), filePath: 'README.md', repoPath: w.repo.dir},
      {code: 'INVALID_FIELD', message: /requestId/, answer: 'repoFileContent'},
    )
    expect(noRequest.answer).toMatchObject({requestId: 'r1', filePath: 'README.md', success: false})
    expect(noRequest.error.requestId).toBe('r1')
  })

  test('traversal paths in readRepoFile and spawnTask.copyFiles', async () => {
    for (const filePath of ['../../etc/passwd', '/etc/passwd', 'docs/../../outside-secret.txt', 'escape-link', '.git/config']) {
      const requestId = id()
      const r = await refused({type: 'readRepoFile', requestId, contractId: id(), filePath, repoPath: w.repo.dir}, {code: 'INVALID_FIELD', answer: 'repoFileContent'})
      expect(r.error.requestId).toBe(requestId)
      expect(r.answer).toMatchObject({requestId, filePath, success: false})
      expect(r.answer.content).toBeUndefined()
      expect(JSON.stringify(r)).not.toContain('do not read me')
      expect(JSON.stringify(r)).not.toContain('root:x:0')
    }
    const taskId = id()
    const copy = await refused(
      {type: 'spawnTask', taskId, taskName: 'copy', plan: 'quick task', repoUrl: w.repo.dir, parentTaskId: done, copyFiles: ['ok.txt', '../../etc/passwd']},
      {code: 'INVALID_FIELD', message: /copyFiles/},
    )
    expect(copy.error.taskId).toBe(taskId)
    expect(w.query('SELECT id FROM tasks WHERE id = ?', taskId)).toEqual([])
  })

  test('option-injection and invalid branch names in mergeStart and createBranch', async () => {
    for (const sourceBranch of ['--upload-pack=touch /tmp/pwned', '-D', 'a..b', 'refs/heads/x y']) {
      const r = await refused({type: 'mergeStart', taskId: done, sourceBranch}, {code: 'INVALID_FIELD', message: /branch/, answer: 'mergeResult'})
      expect(r.answer.taskId).toBe(done)
    }
    for (const branchName of ['--force', '-b', 'x~1', '.hidden', 'HEAD']) {
      const r = await refused({type: 'createBranch', taskId: done, branchName}, {code: 'INVALID_FIELD', answer: 'branchCreated'})
      expect(r.answer).toMatchObject({taskId: done, branchName, success: false})
    }
    await refused({type: 'createBranch', taskId: done, branchName: 'fine', fromRef: '--orphan'}, {code: 'INVALID_FIELD', answer: 'branchCreated'})
    await refused({type: 'spawnTask', taskId: id(), taskName: 'x', plan: 'p', baseBranch: '--exec=sh'}, {code: 'INVALID_FIELD', message: /baseBranch/})
    expect(w.repo.git('branch', '--list', '--format=%(refname:short)').split('\n')).not.toContain('fine')
  })
})

describe('state and existence', () => {
  test('unknown tasks, state conflicts, an existing task id, a repository that does not exist', async () => {
    const unknown = id()
    const nf = await refused({type: 'mergeStatus', taskId: unknown}, {code: 'TASK_NOT_FOUND', message: new RegExp(unknown), answer: 'mergeStatusResponse'})
    expect(nf.answer).toMatchObject({taskId: unknown, inProgress: false, conflictedFiles: []})
    await refused({type: 'pauseTask', taskId: unknown}, {code: 'TASK_NOT_FOUND'})
    await refused({type: 'createBranch', taskId: unknown, branchName: 'ok-name'}, {code: 'TASK_NOT_FOUND', answer: 'branchCreated'})
    await refused({type: 'pauseTask', taskId: done}, {code: 'INVALID_STATE', message: /completed/})
    await refused({type: 'resumeTask', taskId: done}, {code: 'INVALID_STATE'})
    await refused({type: 'interruptTask', taskId: done}, {code: 'INVALID_STATE'})
    await refused({type: 'sendMessage', taskId: done, message: 'AUTH_CODE:abc'}, {code: 'INVALID_STATE', message: /login/})
    await refused({type: 'spawnTask', taskId: done, taskName: 'again', plan: 'quick task', repoUrl: w.repo.dir}, {code: 'TASK_EXISTS'})
    const noRepo = id()
    await refused({type: 'spawnTask', taskId: noRepo, taskName: 'x', plan: 'quick task', repoUrl: join(w.t.root, 'no-such-repo')}, {code: 'INVALID_FIELD', message: /no-such-repo/})
    expect(w.query('SELECT id FROM tasks WHERE id = ?', noRepo)).toEqual([])
    // a CLI task is not the server's: unknown to it
    const cli = await w.json(['task', 'create', '--repo', w.repo.dir, 'quick task'])
    await refused({type: 'getTaskDiff', taskId: cli.taskId}, {code: 'TASK_NOT_FOUND', answer: 'taskDiff'})
  })
})

describe('big frames', () => {
  test('a 10 MiB sendMessage is handled; a frame over 64 MiB closes with 1009 and the daemon reconnects', async () => {
    const huge = 'x'.repeat(10 * 1024 * 1024)
    const r = await refused({type: 'sendMessage', taskId: id(), message: huge}, {code: 'TASK_NOT_FOUND'})
    expect(JSON.stringify(r.error).length).toBeLessThan(4096)
    // a huge value echoed in a refusal is cut: the error and the answer stay small
    const branch = await refused({type: 'createBranch', taskId: done, branchName: `-${huge}`}, {code: 'INVALID_FIELD', answer: 'branchCreated'})
    expect(JSON.stringify(branch.error).length).toBeLessThan(4096)
    expect(JSON.stringify(branch.answer).length).toBeLessThan(16_384)
    const file = await refused({type: 'readRepoFile', requestId: id(), contractId: id(), filePath: `../${huge}`, repoPath: w.repo.dir}, {code: 'INVALID_FIELD', answer: 'repoFileContent'})
    expect(JSON.stringify(file).length).toBeLessThan(32_768)
    await refused({type: huge}, {code: 'UNKNOWN_COMMAND'})
    // to a task that exists: accepted (the completed task's session is resumed with it) or refused, never a crash
    const from = w.server.messages.length
    w.server.send({type: 'sendMessage', taskId: done, message: `quick task ${huge}`})
    const resumed = await w.server.waitForMessage((m) => m.taskId === done && (m.type === 'taskComplete' || m.type === 'commandError'), 60_000, 'the big message handled', from)
    expect(resumed.type).toBe('taskComplete')
    // the resumed run has ended and reported: whatever it sent about the message is here
    expect(w.daemon!.exit).toBeUndefined()
    expect(w.server.messages.slice(from).filter((m) => m.raw.length > 1024 * 1024)).toEqual([])

    const authBefore = w.server.messagesOfType('authenticate').length
    const closed = new Promise<number>((resolve) => {
      const before = w.server.connections
      const timer = setInterval(() => {
        if (!w.server.authenticated || w.server.connections > before) {
          clearInterval(timer)
          resolve(Date.now())
        }
      }, 10)
    })
    w.server.send(JSON.stringify({type: 'sendMessage', taskId: done, message: 'y'.repeat(65 * 1024 * 1024)}))
    await closed
    await w.server.waitForMessage(() => w.server.messagesOfType('authenticate').length > authBefore && w.server.authenticated, 15_000, 'a new authenticate')
    expect(w.daemon!.exit).toBeUndefined()
    expect(w.server.closeCodes).toEqual([1009])
    expect(w.daemon!.stderr).toMatch(/Max payload size exceeded/)
  })
})

describe('after all that', () => {
  test('the daemon still serves: a spawnTask (optional fields null) runs to completion', async () => {
    const taskId = w.spawnTask('still serving', {baseBranch: null, targetBranch: null, parentTaskId: null, contractId: null, copyFiles: null, completionAction: null})
    const complete = await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === taskId, 60_000)
    expect(complete.success).toBe(true)
    expect(w.daemon!.exit).toBeUndefined()
    expect(w.server.badFrames).toEqual([])
    expect(w.daemon!.stderr).not.toContain(w.apiKey)
    // every message the daemon sent has a seq, strictly increasing
    const seqs = w.server.messages.map((m) => m.msg).filter((m) => typeof m.seq === 'number' && m.type !== 'authenticate')
    const unique = w.server.uniqueSeqMessages().map((m) => m.seq)
    expect(unique).toEqual([...unique].sort((a, b) => a - b))
    expect(seqs.length).toBeGreaterThan(50)
  })
})
