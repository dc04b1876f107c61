// The daemon process going away (docs/design.md "Processes", docs/protocol.md
// taskRecoveryDetected): SIGKILLed mid-task, the next start reports the task, ends what is left of
// it and marks it interrupted; the outbox survives (unacked messages resent, seqs never reused).
// SIGTERM drains (docs/protocol.md "Drain"): each task's work goes to the server as a checkpoint
// patch and the task ends as interrupted, exit 0. restartDaemon exits 42 and keeps tasks for recovery.
import {execFileSync} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {existsSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {gunzipSync, gzipSync} from 'node:zlib'
import {describe, expect, test} from 'vitest'

import {daemonWorld, useDaemonCleanup} from '../support/daemon-world.js'
import {waitFor} from '../support/processes.js'
import {byPrompt, startScriptedApi, steps, type ScriptedApi} from '../support/scripted-api.js'
import {describeTaskProcesses, taskPids} from '../support/task-helpers.js'

useDaemonCleanup()

// A tool command that runs until killed; with TERM ignored (inherited by its sleeps) only SIGKILL ends it.
const FOREVER = 'echo started-forever; sleep 300'
const STUBBORN = `trap '' TERM; echo started-stubborn; while true; do sleep 0.2; done`

let api: ScriptedApi
async function sharedApi(): Promise<ScriptedApi> {
  api ??= await startScriptedApi(
    byPrompt({
      'run forever': steps({bash: FOREVER}, {text: 'never reached'}),
      'ignore sigterm': steps({bash: STUBBORN}, {text: 'never reached'}),
      // turn-independent: also right when a resumed session already has turns
      'check the respawned file': (ctx) => (ctx.toolResults.length > 0 ? {text: 'respawn checked'} : {bash: 'cat respawned.txt; git branch --show-current'}),
      'check the restored file': steps({bash: 'cat restored.txt; git log -1 --format=%s'}, {text: 'checked'}),
      'pick up where it stopped': steps({text: 'picked up'}),
    }),
  )
  return api
}

async function waitForTool(taskId: string, cmd: string): Promise<void> {
  await waitFor(() => describeTaskProcesses(taskId).some((p) => p.cmd.includes(cmd)), {
    timeoutMs: 30_000,
    description: `task ${taskId} running "${cmd}"`,
  })
}

describe('recovery', () => {
  test('daemon SIGKILLed mid-task: the next start reports taskRecoveryDetected, interrupts the task, resends the unacked outbox; a task whose worktree was lost is respawned from a patch', async () => {
    const w = await daemonWorld(await sharedApi())
    const first = await w.startDaemon()
    const id = w.spawnTask('run forever')
    const lost = w.spawnTask('run forever') // its worktree is removed while the daemon is down
    await w.waitForStatus(id, 'running')
    await w.waitForStatus(lost, 'running')
    await waitForTool(id, 'sleep 300')
    await waitForTool(lost, 'sleep 300')
    const lostTask = await w.json(['task', 'show', lost])
    await w.server.waitForMessage((m) => m.type === 'taskOutput' && m.taskId === id && m.output.includes('started-forever'), 20_000)
    // the last messages are received but not acknowledged when the daemon dies
    w.server.ack = 'off'
    const task = await w.json(['task', 'show', id])
    expect(task.worktreePath).toBeTruthy()
    w.server.send({type: 'mergeStatus', taskId: id}) // one more message into the outbox, never acked
    const unacked = await w.server.waitForMessage((m) => m.type === 'mergeStatusResponse' && m.taskId === id)
    const ackedBefore = w.server.ackedSeq
    const lastSeqBefore = Math.max(...w.server.uniqueSeqMessages().map((m) => m.seq))
    expect(unacked.seq).toBe(lastSeqBefore)

    first.kill('SIGKILL')
    await first.wait()
    expect(taskPids(id).length).toBeGreaterThan(0) // claude and its tool outlive the daemon
    rmSync(lostTask.worktreePath, {recursive: true, force: true})
    expect(await w.json(['daemon', 'status'])).toMatchObject({running: false, pid: null, connection: 'not running', daemonId: w.server.daemonId})

    w.server.ack = 'on'
    await w.startDaemon()
    const report = await w.server.waitForMessage((m) => m.type === 'taskRecoveryDetected' && m.taskId === id)
    expect(report).toEqual({
      type: 'taskRecoveryDetected',
      taskId: id,
      previousState: 'running',
      worktreeIntact: true,
      worktreePath: task.worktreePath,
      needsPatch: false,
      seq: expect.any(Number),
    })
    const lostReport = await w.server.waitForMessage((m) => m.type === 'taskRecoveryDetected' && m.taskId === lost)
    expect(lostReport).toMatchObject({previousState: 'running', worktreeIntact: false, needsPatch: true})
    const auths = w.server.messagesOfType('authenticate')
    expect(auths[1].lastAckedSeq).toBe(ackedBefore)
    expect(auths[1].activeTaskIds).toEqual([]) // interrupted before the connection was made
    // the unacked messages of the first run come again, then the report with a fresh seq
    const second = w.server.messages.filter((m) => m.connection === 2 && typeof m.msg.seq === 'number').map((m) => m.msg)
    expect(second[0].seq).toBe(ackedBefore + 1)
    expect(second.find((m) => m.seq === unacked.seq)).toEqual(unacked)
    expect(Math.min(report.seq, lostReport.seq)).toBe(lastSeqBefore + 1)

    for (const t of [id, lost]) {
      await waitFor(() => taskPids(t).length === 0, {timeoutMs: 10_000, description: `no process of ${t} left: ${JSON.stringify(describeTaskProcesses(t))}`})
      expect(await w.json(['task', 'show', t])).toMatchObject({state: 'interrupted', pid: null})
    }
    expect(existsSync(task.worktreePath)).toBe(true)

    // the server respawns the task whose worktree was lost, from a checkpoint patch, resuming its session
    writeFileSync(join(w.repo.dir, 'respawned.txt'), 'back from a patch\n')
    w.repo.git('add', 'respawned.txt')
    const patch = execFileSync('git', ['diff', '--cached', '--binary', lostTask.baseSha], {cwd: w.repo.dir})
    w.repo.git('reset', '-q', '--hard', 'HEAD')
    const beforeRespawn = w.server.messages.length
    w.spawnTask('check the respawned file', {taskId: lost, resumeSession: true, patchData: gzipSync(patch).toString('base64'), patchBaseSha: lostTask.baseSha})
    const respawned = await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === lost, 60_000, 'the respawned task completes', beforeRespawn)
    expect(respawned.success).toBe(true)
    const respawnStatuses = w.server.messages
      .slice(beforeRespawn)
      .map((m) => m.msg)
      .filter((m) => m.type === 'taskStatusChange' && m.taskId === lost)
    expect(respawnStatuses.map((m) => [m.oldStatus, m.newStatus])).toEqual([
      ['interrupted', 'initializing'],
      ['initializing', 'starting'],
      ['starting', 'running'],
      ['running', 'completed'],
    ])
    const respawnTool = api.calls.flatMap((c) => c.toolResults.map((r) => r.content)).join('\n')
    expect(respawnTool).toContain('back from a patch')
    expect(respawnTool).toContain(lostTask.branch)
    // the session was resumed: the first call of the respawn carries the earlier conversation
    // (claude 2.1.197 turns an interrupted last turn into "Continue from where you left off.")
    const firstRespawnCall = api.calls.find((c) => c.lastUserText.includes('check the respawned file'))!
    expect(firstRespawnCall.body.messages.length).toBeGreaterThan(1)
    expect(await w.json(['task', 'show', lost])).toMatchObject({state: 'completed', worktreePath: lostTask.worktreePath, sessionId: lostTask.sessionId})
    // a task whose worktree is still there is resumed, not patched
    const intactRefused = await w.request({
      type: 'spawnTask',
      taskId: id,
      taskName: 'x',
      plan: 'check the respawned file',
      repoUrl: w.repo.dir,
      resumeSession: true,
      patchData: gzipSync(patch).toString('base64'),
      patchBaseSha: lostTask.baseSha,
    })
    expect(intactRefused).toMatchObject({type: 'commandError', code: 'INVALID_STATE'})

    // reported once: a third start has nothing to report
    await w.stopDaemon()
    await w.startDaemon()
    await w.server.waitForMessage(() => w.server.messagesOfType('authenticate').length === 3)
    expect(w.server.messagesOfType('taskRecoveryDetected')).toHaveLength(2)
    await w.stopDaemon()
  })

  test('SIGTERM drains: no new task, the work so far sent as a checkpoint patch, the task ended as interrupted, exit 0 once acked; restartDaemon exits 42 and keeps tasks for recovery', async () => {
    const w = await daemonWorld(await sharedApi(), {extra: {MAKIMA_DAEMON_PROCESS_INTERRUPTGRACESECS: '3'}})
    const daemon = await w.startDaemon()
    const id = w.spawnTask('ignore sigterm')
    await w.waitForStatus(id, 'running')
    await waitForTool(id, 'started-stubborn')
    await waitFor(() => describeTaskProcesses(id).some((p) => p.cmd === 'sleep 0.2'), {timeoutMs: 10_000, description: 'the stubborn loop sleeps'})
    const task = await w.json(['task', 'show', id])
    writeFileSync(join(task.worktreePath, 'work-so-far.txt'), 'halfway there\n') // the task's work, uncommitted

    const t0 = Date.now()
    daemon.kill('SIGTERM')
    await waitFor(() => daemon.stderr.includes('draining: no new tasks'), {timeoutMs: 10_000, description: 'the drain starts'})
    // (the stubborn task holds the drain for the 3 s interrupt grace: the daemon is still there)
    const refused = await w.request({type: 'spawnTask', taskId: randomUUID(), taskName: 'late', plan: 'run forever', repoUrl: w.repo.dir})
    expect(refused).toMatchObject({type: 'commandError', code: 'INVALID_STATE'})
    expect(refused.message).toContain('draining')
    expect(await w.json(['daemon', 'status'])).toMatchObject({running: true, connection: 'draining'})
    const exit = await daemon.wait()
    expect(exit.code, exit.stderr).toBe(0)
    expect(Date.now() - t0).toBeLessThan(20_000) // daemon.drainGraceSecs
    expect(describeTaskProcesses(id)).toEqual([])
    expect(exit.stderr).not.toContain(w.apiKey)
    expect(exit.stderr).toMatch(/drained task [0-9a-f]{8}: the work so far was sent/)
    expect(exit.stderr).toMatch(/drain done in [\d.]+s: 1 task\(s\) ended, 1 handed over with a patch; the server acked every message/)

    // the server got the patch (against the task's base), then the task's end, and acked both
    const checkpoint = w.taskMessages(id).find((m) => m.type === 'checkpointCreated')
    expect(checkpoint).toMatchObject({success: true, patchBaseSha: task.baseSha, patchFilesCount: 1})
    expect(gunzipSync(Buffer.from(checkpoint.patchData, 'base64')).toString()).toContain('+halfway there')
    const end = w
      .taskMessages(id)
      .filter((m) => m.type === 'taskStatusChange')
      .at(-1)
    expect(end).toMatchObject({newStatus: 'interrupted'})
    expect(end.seq).toBeGreaterThan(checkpoint.seq)
    const complete = w.taskMessages(id).find((m) => m.type === 'taskComplete')
    expect(complete).toMatchObject({success: false})
    expect(complete.error).toMatch(/^drained: the daemon was shut down/)
    const shown = await w.json(['task', 'show', id])
    expect(shown).toMatchObject({state: 'interrupted'})
    expect(shown.error).toContain('sent to the server as checkpoint')

    // nothing to recover at the next start; restartDaemon is a restart, not a drain
    const next = await w.startDaemon()
    const id2 = w.spawnTask('ignore sigterm')
    await w.waitForStatus(id2, 'running')
    await waitForTool(id2, 'started-stubborn')
    w.server.send({type: 'restartDaemon'})
    const restarted = await next.wait()
    expect(restarted.code, restarted.stderr).toBe(42)
    expect(restarted.stderr).not.toContain(w.apiKey)
    expect(describeTaskProcesses(id2)).toEqual([])
    expect(w.server.messagesOfType('taskRecoveryDetected').filter((m) => m.taskId === id)).toEqual([])
    await w.startDaemon()
    const report = await w.server.waitForMessage((m) => m.type === 'taskRecoveryDetected' && m.taskId === id2)
    expect(report).toMatchObject({previousState: 'running', worktreeIntact: true, needsPatch: false})
    await w.stopDaemon()
  })

  test('respawn from a checkpoint patch: spawnTask with patchData/patchBaseSha starts on that commit with the patch applied; a patch that does not apply fails the task; conversationHistory reaches Claude Code as context', async () => {
    const w = await daemonWorld(await sharedApi())
    // a checkpoint patch as protocol.md makes it: gzip of `git diff --binary <base>`, base64
    const base = w.repo.head
    w.repo.git('commit', '-q', '--allow-empty', '-m', 'main moved on') // the base is not main's tip any more
    writeFileSync(join(w.repo.dir, 'restored.txt'), 'restored content\n')
    w.repo.git('add', 'restored.txt')
    const diff = execFileSync('git', ['diff', '--cached', '--binary', base], {cwd: w.repo.dir})
    w.repo.git('reset', '-q', '--hard', 'HEAD')
    const patchData = gzipSync(diff).toString('base64')
    await w.startDaemon()

    const id = w.spawnTask('check the restored file', {patchData, patchBaseSha: base})
    const complete = await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === id, 60_000)
    expect(complete.success).toBe(true)
    const toolOutput = api.calls.flatMap((c) => c.toolResults.map((r) => r.content)).join('\n')
    expect(toolOutput).toContain('restored content')
    expect(toolOutput).toContain('initial commit') // HEAD is the patch's base, not main
    expect(toolOutput).not.toContain('main moved on')
    expect(await w.json(['task', 'show', id])).toMatchObject({state: 'completed', baseSha: base})
    expect(w.taskMessages(id).some((m) => m.type === 'taskOutput' && /^Applied the checkpoint patch/.test(m.output))).toBe(true)

    const broken = randomUUID()
    const conflicting = 'diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-not what the file says\n+x\n'
    const refused = await w.request({
      type: 'spawnTask',
      taskId: broken,
      taskName: 'broken',
      plan: 'check the restored file',
      repoUrl: w.repo.dir,
      patchData: gzipSync(conflicting).toString('base64'),
      patchBaseSha: base,
    })
    expect(refused).toMatchObject({type: 'commandError', code: 'INVALID_FIELD'})
    expect(refused.message).toMatch(/patch/)
    expect(await w.json(['task', 'show', broken])).toMatchObject({state: 'failed'})
    const noBase = await w.request({type: 'spawnTask', taskId: randomUUID(), taskName: 'x', plan: 'check the restored file', repoUrl: w.repo.dir, patchData})
    expect(noBase).toMatchObject({type: 'commandError', code: 'INVALID_FIELD'})
    expect(noBase.message).toMatch(/patchBaseSha/)

    // A task this daemon never ran, respawned with the server's copy of its conversation: Claude
    // Code gets the history as context before the plan.
    const history = [
      {role: 'user', content: 'add the NOTES file'},
      {role: 'assistant', content: 'NOTES-HISTORY-MARKER written halfway'},
    ]
    const moved = w.spawnTask('pick up where it stopped', {resumeSession: true, patchData, patchBaseSha: base, conversationHistory: history})
    expect((await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === moved, 60_000)).success).toBe(true)
    const first = api.calls.find((c) => c.lastUserText.includes('pick up where it stopped'))!
    expect(first.lastUserText).toContain('NOTES-HISTORY-MARKER written halfway')
    expect(first.lastUserText.indexOf('NOTES-HISTORY-MARKER')).toBeLessThan(first.lastUserText.indexOf('pick up where it stopped'))
    await w.stopDaemon()
  })
})
