// Limits and usage of server tasks (issue 19): the daemon applies the config's limits.* defaults
// to every spawnTask, a limit stops the task (failed, the limit named in taskComplete's error),
// its work goes to the server as checkpointCreated, and taskComplete carries the task's usage.
// The real claude against a scripted API that never stops asking for tools.
import {describe, expect, test} from 'vitest'

import {daemonWorld, useDaemonCleanup} from '../support/daemon-world.js'
import {byPrompt, startScriptedApi} from '../support/scripted-api.js'
import {describeTaskProcesses} from '../support/task-helpers.js'

useDaemonCleanup()

describe('server tasks under the config limits', () => {
  test('limits.maxTurns stops a task that never ends: taskComplete with the limit and the usage, its work as checkpointCreated; a resume is refused', async () => {
    const api = await startScriptedApi(byPrompt({'loop on the server': (ctx) => ({bash: `echo turn ${ctx.turn} >> turns.txt`})}))
    const w = await daemonWorld(api, {extra: {MAKIMA_DAEMON_LIMITS_MAXTURNS: '2', MAKIMA_DAEMON_LIMITS_MAXCOSTUSD: '5'}})
    await w.startDaemon()
    const id = w.spawnTask('loop on the server')
    const complete = await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === id, 60_000)
    expect(complete).toMatchObject({success: false, error: 'limit reached: 2 turns (max 2)'})
    expect(complete.usage).toMatchObject({runs: 1, turns: 2, cacheReadTokens: 0, cacheWriteTokens: 0, costEstimated: false})
    expect(complete.usage.costUsd).toBeGreaterThan(0)
    expect(complete.usage.durationMs).toBeGreaterThan(0)
    expect(Object.keys(complete.usage).sort()).toEqual(['cacheReadTokens', 'cacheWriteTokens', 'costEstimated', 'costUsd', 'durationMs', 'inputTokens', 'models', 'outputTokens', 'runs', 'turns'])

    const mine = w.taskMessages(id)
    expect(mine.filter((m) => m.type === 'taskStatusChange').at(-1)).toMatchObject({newStatus: 'failed'})
    const checkpoint = w.server.messages.map((m) => m.msg).find((m) => m.type === 'checkpointCreated' && m.taskId === id)
    expect(checkpoint).toMatchObject({success: true, message: 'limit snapshot', patchData: expect.any(String)})
    expect(describeTaskProcesses(id)).toEqual([])

    const task = await w.json(['task', 'show', id])
    expect(task).toMatchObject({origin: 'daemon', state: 'failed', failureKind: 'limit', limits: {maxTurns: 2, maxCostUsd: 5, timeoutSecs: null}})

    // the protocol has no way to give new limits: a follow-up is refused, saying why
    const refused = await w.request({type: 'sendMessage', taskId: id, message: 'go on'}, 'commandError')
    expect(refused).toMatchObject({type: 'commandError', code: 'INVALID_STATE'})
    expect(refused.message).toContain('stopped at a limit (limit reached: 2 turns (max 2))')
  })
})
