// Every server -> daemon command of docs/protocol.md at least once, against one daemon, real
// claude tasks and real git: task control (pause/resume/interrupt/sendMessage/injectSiblingContext),
// the merge family, completion actions, repository commands, checkpoints, cleanup, git config and
// restartDaemon, each answered with its answer message.
import {randomUUID} from 'node:crypto'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {delimiter, join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {daemonWorld, useDaemonCleanup} from '../support/daemon-world.js'
import {fakeGh} from '../support/fake-gh.js'
import {git} from '../support/git-fixtures.js'
import {waitFor} from '../support/processes.js'
import {byPrompt, startScriptedApi, steps} from '../support/scripted-api.js'
import {describeTaskProcesses, lineCount} from '../support/task-helpers.js'

useDaemonCleanup()

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const TICKS = 'for i in $(seq 1 600); do echo tick >> ticks.txt; sleep 0.1; done'

describe('every command of the protocol table', () => {
  test('each is executed and answered', async () => {
    const api = await startScriptedApi(
      byPrompt({
        'follow-up for the subtask': {text: 'follow-up handled'},
        'tick for a long time': steps({bash: TICKS}, {text: 'never reached'}),
        'parent work': steps({bash: 'echo work > work.txt'}, {text: 'parent done'}),
        'subtask work': steps({bash: 'echo sub > sub.txt && git add sub.txt && git commit -qm "subtask work"'}, {text: 'subtask done'}),
      }),
    )
    const w = await daemonWorld(api, {bare: true})
    // two side branches that conflict with each other on conflict.txt
    for (const side of ['a', 'b']) {
      w.repo.git('checkout', '-q', '-b', `makima/side-${side}`, 'main')
      writeFileSync(join(w.repo.dir, 'conflict.txt'), `side ${side}\n`)
      w.repo.git('add', 'conflict.txt')
      w.repo.git('commit', '-qm', `side ${side}`)
      w.repo.git('checkout', '-q', 'main')
    }
    const gh = fakeGh(w.t.root)
    const daemon = await w.startDaemon([], {extra: {PATH: [gh.bin, w.t.env.PATH].join(delimiter)}})
    const noError = (taskId: string, commandType: string) => expect(w.server.messagesOfType('commandError').filter((m) => m.taskId === taskId && m.commandType === commandType)).toEqual([])

    const control = w.spawnTask('tick for a long time')
    const parent = w.spawnTask('parent work', {isOrchestrator: true})
    await w.waitForStatus(parent, 'running')
    const sub = w.spawnTask('subtask work', {parentTaskId: parent})
    const parentDone = w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === parent, 60_000)
    const subDone = w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === sub, 60_000)

    // ---- pauseTask / resumeTask / injectSiblingContext / interruptTask on a running task
    await w.waitForStatus(control, 'running')
    const ticks = join((await w.json(['task', 'show', control])).worktreePath, 'ticks.txt')
    await waitFor(() => lineCount(ticks) >= 2, {timeoutMs: 30_000, description: 'ticks grow'})
    w.server.send({type: 'pauseTask', taskId: control})
    expect(await w.waitForStatus(control, 'paused')).toMatchObject({oldStatus: 'running'})
    await waitFor(() => describeTaskProcesses(control).every((p) => p.state === 'T'), {timeoutMs: 3000, description: 'every process stopped'})
    const frozen = lineCount(ticks)
    // a duration is the point: every process is stopped (above); 500 ms is 5 tick periods in which
    // a running loop would have written, and no event marks "still paused"
    await sleep(500)
    expect(lineCount(ticks)).toBe(frozen)
    const mark = w.server.messages.length
    w.server.send({type: 'resumeTask', taskId: control})
    expect(await w.waitForStatus(control, 'running', 10_000, mark)).toMatchObject({oldStatus: 'paused'})
    await waitFor(() => lineCount(ticks) > frozen, {timeoutMs: 5000, description: 'ticks grow again'})
    w.server.send({type: 'injectSiblingContext', taskId: control, context: {sibling: 'hello'}})
    w.server.send({type: 'interruptTask', taskId: control, graceful: true})
    expect(await w.waitForStatus(control, 'interrupted', 20_000)).toMatchObject({oldStatus: 'running'})
    expect(await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === control)).toMatchObject({success: false})
    await waitFor(() => describeTaskProcesses(control).length === 0, {timeoutMs: 10_000, description: 'no process of the interrupted task left'})
    noError(control, 'injectSiblingContext')
    noError(control, 'pauseTask')

    expect(await parentDone).toMatchObject({success: true})
    expect(await subDone).toMatchObject({success: true})
    const subTask = await w.json(['task', 'show', sub])
    const parentTask = await w.json(['task', 'show', parent])
    expect(subTask.parentTaskId).toBe(parent)

    // ---- the merge family on the parent's worktree
    const branchList = await w.request({type: 'listBranches', taskId: parent}, 'branchList')
    expect(branchList.type).toBe('branchList')
    const names = branchList.branches.map((b: any) => b.name)
    expect(names).toEqual(expect.arrayContaining([subTask.branch, 'makima/side-a', 'makima/side-b']))
    expect(branchList.branches.find((b: any) => b.name === subTask.branch)).toMatchObject({taskId: sub, isMerged: false, lastCommitMessage: 'subtask work'})

    const check1 = await w.request({type: 'checkMergeComplete', taskId: parent}, 'mergeCompleteCheck')
    expect(check1).toMatchObject({type: 'mergeCompleteCheck', canComplete: false, unmergedBranches: [subTask.branch], mergedCount: 0, skippedCount: 0})

    const skipped = await w.request({type: 'mergeSkip', taskId: parent, subtaskId: sub, reason: 'not needed'}, 'mergeResult')
    expect(skipped).toMatchObject({type: 'mergeResult', success: true})

    const mergedA = await w.request({type: 'mergeStart', taskId: parent, sourceBranch: 'makima/side-a'}, 'mergeResult')
    expect(mergedA).toMatchObject({type: 'mergeResult', success: true, commitSha: expect.stringMatching(/^[0-9a-f]{40}$/)})
    const conflictB = await w.request({type: 'mergeStart', taskId: parent, sourceBranch: 'makima/side-b'}, 'mergeResult')
    expect(conflictB).toMatchObject({type: 'mergeResult', success: false, conflicts: ['conflict.txt']})
    const status = await w.request({type: 'mergeStatus', taskId: parent}, 'mergeStatusResponse')
    expect(status).toMatchObject({type: 'mergeStatusResponse', inProgress: true, sourceBranch: 'makima/side-b', conflictedFiles: ['conflict.txt']})
    const aborted = await w.request({type: 'mergeAbort', taskId: parent}, 'mergeResult')
    expect(aborted).toMatchObject({type: 'mergeResult', success: true})
    expect((await w.request({type: 'mergeStatus', taskId: parent}, 'mergeStatusResponse')).inProgress).toBe(false)

    await w.request({type: 'mergeStart', taskId: parent, sourceBranch: 'makima/side-b'}, 'mergeResult')
    const resolved = await w.request({type: 'mergeResolve', taskId: parent, file: 'conflict.txt', strategy: 'theirs'}, 'mergeResult')
    expect(resolved).toMatchObject({type: 'mergeResult', success: true, conflicts: []})
    const committed = await w.request({type: 'mergeCommit', taskId: parent, message: 'merge side b'}, 'mergeResult')
    expect(committed).toMatchObject({type: 'mergeResult', success: true, commitSha: expect.stringMatching(/^[0-9a-f]{40}$/)})
    expect(readFileSync(join(parentTask.worktreePath, 'conflict.txt'), 'utf8')).toBe('side b\n')

    const check2 = await w.request({type: 'checkMergeComplete', taskId: parent}, 'mergeCompleteCheck')
    expect(check2).toMatchObject({canComplete: true, unmergedBranches: [], skippedCount: 1})

    // ---- diff, checkpoint, branch, clone, target check, repository file
    const diff = await w.request({type: 'getTaskDiff', taskId: parent}, 'taskDiff')
    expect(diff).toMatchObject({type: 'taskDiff', success: true})
    expect(diff.diff).toContain('work.txt')
    expect(diff.diff).toContain('conflict.txt')

    const checkpoint = await w.request({type: 'createCheckpoint', taskId: parent, message: 'daemon checkpoint'}, 'checkpointCreated')
    expect(checkpoint).toMatchObject({type: 'checkpointCreated', taskId: parent, success: true, commitSha: expect.stringMatching(/^[0-9a-f]{40}$/), checkpointNumber: 1})
    expect(checkpoint.filesChanged).toEqual(expect.arrayContaining([expect.objectContaining({path: 'work.txt'})]))

    const branch = await w.request({type: 'createBranch', taskId: parent, branchName: 'feature/from-daemon', fromRef: null}, 'branchCreated')
    expect(branch).toMatchObject({type: 'branchCreated', success: true, branchName: 'feature/from-daemon'})
    expect(w.repo.git('rev-parse', 'feature/from-daemon')).toBe(checkpoint.commitSha)

    const cloneDir = join(w.t.root, 'clone')
    const clone = await w.request({type: 'cloneWorktree', taskId: parent, targetDir: cloneDir}, 'cloneWorktreeResult')
    expect(clone).toMatchObject({type: 'cloneWorktreeResult', success: true, targetDir: cloneDir})
    expect(readFileSync(join(cloneDir, 'work.txt'), 'utf8')).toBe('work\n')
    expect(await w.request({type: 'checkTargetExists', taskId: parent, targetDir: cloneDir}, 'checkTargetExistsResult')).toMatchObject({exists: true, targetDir: cloneDir})
    const missing = join(w.t.root, 'nowhere')
    expect(await w.request({type: 'checkTargetExists', taskId: parent, targetDir: missing}, 'checkTargetExistsResult')).toMatchObject({exists: false, targetDir: missing})

    const requestId = randomUUID()
    const file = await w.request({type: 'readRepoFile', requestId, contractId: randomUUID(), filePath: 'README.md', repoPath: w.repo.dir}, 'repoFileContent')
    expect(file).toEqual({type: 'repoFileContent', requestId, filePath: 'README.md', content: '# test repo\n', success: true, seq: expect.any(Number)})

    // ---- completion actions into the bare origin, and a PR through the fake gh
    const merged = await w.request({type: 'mergeTaskToTarget', taskId: parent, targetBranch: 'main', squash: true}, 'mergeToTargetResult')
    expect(merged).toMatchObject({type: 'mergeToTargetResult', success: true, commitSha: expect.stringMatching(/^[0-9a-f]{40}$/)})
    expect(git(w.repo.remote!, 'show', 'main:work.txt')).toBe('work')

    const retried = await w.request({type: 'retryCompletionAction', taskId: parent, taskName: 'parent', action: 'branch', targetRepoPath: w.repo.remote}, 'completionActionResult')
    expect(retried).toMatchObject({type: 'completionActionResult', taskId: parent, success: true})
    expect(git(w.repo.remote!, 'rev-parse', `refs/heads/${parentTask.branch}`)).toMatch(/^[0-9a-f]{40}$/)

    const pr = await w.request({type: 'createPR', taskId: parent, title: 'Parent work', body: 'from the daemon', baseBranch: 'main'}, 'prCreated')
    expect(pr).toMatchObject({type: 'prCreated', success: true, prUrl: 'https://github.com/example/repo/pull/7', prNumber: 7})
    const argv = gh.argv()
    expect(argv).toEqual(expect.arrayContaining(['pr', 'create', `--head=${parentTask.branch}`, '--base=main', '--title=Parent work', '--body=from the daemon']))

    const identity = await w.request({type: 'inheritGitConfig', sourceDir: w.repo.dir}, 'gitConfigInherited')
    expect(identity).toMatchObject({type: 'gitConfigInherited', success: true, userName: 'makima test', userEmail: 'test@makima.invalid'})

    const cleaned = await w.request({type: 'cleanupWorktree', taskId: parent, deleteBranch: false}, 'cleanupWorktreeResult')
    expect(cleaned).toMatchObject({type: 'cleanupWorktreeResult', taskId: parent, success: true})
    expect(existsSync(parentTask.worktreePath)).toBe(false)

    // ---- sendMessage to an ended task with a session: resumed with the message
    const callsBefore = api.calls.length
    const beforeSend = w.server.messages.length
    w.server.send({type: 'sendMessage', taskId: sub, message: 'follow-up for the subtask'})
    await w.server.waitForMessage((m) => m.type === 'taskStatusChange' && m.taskId === sub && m.oldStatus === 'completed', 20_000, 'the subtask leaves completed', beforeSend)
    const resumedDone = await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === sub, 60_000, 'the resumed subtask completes', beforeSend)
    expect(resumedDone).toMatchObject({success: true})
    expect(api.calls.slice(callsBefore).some((c) => c.lastUserText.includes('follow-up for the subtask'))).toBe(true)
    const subStatuses = w
      .taskMessages(sub)
      .filter((m) => m.type === 'taskStatusChange')
      .map((m) => m.newStatus)
    expect(subStatuses.slice(-3)).toEqual(['starting', 'running', 'completed'])

    // nothing above was refused
    expect(w.server.messagesOfType('commandError')).toEqual([])
    expect(w.server.connections).toBe(1)

    // ---- restartDaemon: graceful stop with exit code 42
    w.server.send({type: 'restartDaemon'})
    const exit = await daemon.wait()
    expect(exit.code, exit.stderr).toBe(42)
  })
})
