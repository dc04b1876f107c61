// Concurrency caps (docs/protocol.md CONCURRENCY_LIMIT / CONTRACT_CONCURRENCY_LIMIT, docs/design.md
// "Processes": slots are counted in the store, so CLI tasks count against the daemon's cap), and
// CLI tasks in the same MAKIMA_HOME are never reported to the server.
import {randomUUID} from 'node:crypto'
import {describe, expect, test} from 'vitest'

import {daemonWorld, useDaemonCleanup} from '../support/daemon-world.js'
import {waitFor} from '../support/processes.js'
import {byPrompt, startScriptedApi, steps, type ScriptedApi} from '../support/scripted-api.js'
import {describeTaskProcesses} from '../support/task-helpers.js'

useDaemonCleanup()

const FOREVER = 'echo started-forever; sleep 300'
let api: ScriptedApi
async function sharedApi(): Promise<ScriptedApi> {
  api ??= await startScriptedApi(byPrompt({'run forever': steps({bash: FOREVER}, {text: 'never reached'})}))
  return api
}

const running = (taskId: string) => waitFor(() => describeTaskProcesses(taskId).some((p) => p.cmd === 'sleep 300'), {timeoutMs: 30_000, description: `task ${taskId} runs its tool`})

describe('concurrency caps', () => {
  test('global cap (CLI tasks count), per-contract cap; a refused spawn records nothing; CLI tasks are never reported', async () => {
    const w = await daemonWorld(await sharedApi(), {extra: {MAKIMA_DAEMON_PROCESS_MAXTASKSPERCONTRACT: '1', MAKIMA_DAEMON_SERVER_HEARTBEATINTERVALSECS: '0.3'}})
    await w.startDaemon(['--max-concurrent-tasks', '2'])
    const contract = randomUUID()

    const a = w.spawnTask('run forever', {contractId: contract})
    await w.waitForStatus(a, 'running')

    const b = randomUUID()
    const refusedB = await w.request({type: 'spawnTask', taskId: b, taskName: 'b', plan: 'run forever', repoUrl: w.repo.dir, contractId: contract})
    expect(refusedB).toMatchObject({type: 'commandError', commandType: 'spawnTask', taskId: b, code: 'CONTRACT_CONCURRENCY_LIMIT'})
    expect(refusedB.message).toMatch(/contract/i)

    // a CLI task takes the second slot
    const cli = await w.json(['task', 'spawn', '--repo', w.repo.dir, '--detach', 'run forever'])
    await running(cli.taskId)

    const c = randomUUID()
    const refusedC = await w.request({type: 'spawnTask', taskId: c, taskName: 'c', plan: 'run forever', repoUrl: w.repo.dir})
    expect(refusedC).toMatchObject({type: 'commandError', commandType: 'spawnTask', taskId: c, code: 'CONCURRENCY_LIMIT'})
    expect(refusedC.message).toMatch(/2/)
    // nothing recorded for refused spawns
    expect(w.query('SELECT id FROM tasks WHERE id IN (?, ?)', b, c)).toEqual([])

    // the CLI task is never reported: heartbeats go by while it runs
    const beats = w.server.messagesOfType('heartbeat').length
    await w.server.waitForMessage(() => w.server.messagesOfType('heartbeat').length >= beats + 2, 10_000)
    for (const hb of w.server.messagesOfType('heartbeat')) expect(hb.activeTaskIds).not.toContain(cli.taskId)
    const lastBeat = w.server.messagesOfType('heartbeat').at(-1)
    expect(lastBeat).toEqual({type: 'heartbeat', timestamp: expect.any(String), activeTaskIds: [a]})
    expect(Number.isNaN(Date.parse(lastBeat.timestamp))).toBe(false)

    // ending A frees its slot and its contract's: the same contract may spawn again
    w.server.send({type: 'interruptTask', taskId: a})
    await w.waitForStatus(a, 'interrupted')
    const b2 = w.spawnTask('run forever', {contractId: contract})
    await w.waitForStatus(b2, 'running')
    const interrupted = await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === a)
    expect(interrupted).toMatchObject({success: false})

    // the daemon restarts while the CLI task still runs: the drain hands back B2 only, and the
    // next start lists no active task and recovers nothing of the CLI's
    await w.stopDaemon()
    expect(w.taskMessages(b2).find((m) => m.type === 'taskComplete')?.error).toMatch(/^drained: /)
    await w.startDaemon(['--max-concurrent-tasks', '2'])
    const auth = w.server.messagesOfType('authenticate').at(-1)
    expect(auth.activeTaskIds).toEqual([])
    // recovery runs before the connection and its reports go first through the outbox (seq
    // order): once the answer to a later command is here, a report of the CLI task would be too
    const probe = await w.request({type: 'mergeStatus', taskId: randomUUID()})
    expect(probe).toMatchObject({type: 'commandError', code: 'TASK_NOT_FOUND'})
    const recovered = w.server.messagesOfType('taskRecoveryDetected').map((m) => m.taskId)
    expect(recovered).not.toContain(cli.taskId)
    expect(w.server.messages.filter((m) => m.raw.includes(cli.taskId))).toEqual([])
    expect((await w.json(['task', 'show', cli.taskId])).state).toBe('running')
    await w.makima(['task', 'interrupt', cli.taskId])
  })
})
