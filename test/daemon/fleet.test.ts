// A fleet of real daemons (issue 11 "Tested with real daemons", docs/fleet.md): three `makima
// daemon` processes, each with its own MAKIMA_HOME (a pod and its volume), against one fleet server
// (test/support/fleet-server.ts) that sends each task to the least-busy daemon and moves the tasks
// of a daemon that drains or dies to another one, with the last checkpoint patch it received. The
// tasks are real Claude Code runs against the scripted API; the repository is a bare one reached by
// a file:// URL, so each daemon clones it into its own MAKIMA_HOME as on separate machines.
import {chmodSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, test} from 'vitest'

import {killAllSpawned} from '../support/cli.js'
import {cleanupAllTestEnvs, TEST_ENV_MARKER} from '../support/env.js'
import {killProcessesWithEnv, processCmdline, processesWithEnv, waitFor} from '../support/processes.js'
import {taskPids} from '../support/task-helpers.js'
import {closeAllFleetServers} from '../support/fleet-server.js'
import {closeAllScriptedApis} from '../support/scripted-api.js'
import {DRAIN_GRACE_SECS, allEnded, expectNoSeqGaps, expectWorkCarried, fleet, api, type Pod} from '../support/fleet-world.js'

afterAll(async () => {
  killAllSpawned()
  await closeAllFleetServers()
  await closeAllScriptedApis()
  cleanupAllTestEnvs()
})

describe('a fleet of daemons', () => {
  test('twelve tasks on three daemons; one SIGTERMed (drains), one SIGKILLed (with its processes): every task completes, the moved ones with the work done before the move', async () => {
    const f = await fleet()
    const pods = await Promise.all(['a', 'b', 'c'].map((name) => f.startPod(name)))
    const [drained, killed, survivor] = pods
    const tasks = Array.from({length: 12}, (_, i) => f.submit(i % 4 === 3 ? `fleet quick (task ${i})` : `fleet writer (task ${i})`))
    // the server sends each task to the least-busy daemon: four each
    await f.server.until(() => tasks.every((t) => t.state !== 'queued'), 20_000, 'every task dispatched')
    for (const pod of pods) expect(tasks.filter((t) => t.daemonId === pod.daemonId)).toHaveLength(4)

    // mid-run: both victims have a task running whose first file reached the server in a patch
    const midRun = (pod: Pod) => tasks.some((t) => t.state === 'assigned' && t.daemonId === pod.daemonId && t.lastPatch?.daemonId === pod.daemonId)
    await f.server.until(() => midRun(drained) && midRun(killed), 45_000, 'a task with a patch on both victims')

    // a pod that dies: the daemon and every process of the pod (Claude Code, its tools) at once
    killed.daemon.kill('SIGKILL')
    killProcessesWithEnv(TEST_ENV_MARKER, killed.t.id)
    const termAt = Date.now()
    drained.daemon.kill('SIGTERM')
    const exit = await drained.daemon.wait()
    const drainMs = Date.now() - termAt
    expect(exit.code, exit.stderr).toBe(0)
    expect(drainMs).toBeLessThan(DRAIN_GRACE_SECS * 1000)
    expect(exit.stderr).toMatch(/drain done in [\d.]+s: \d+ task\(s\) ended, \d+ handed over with a patch; the server acked every message/)
    expect(exit.stderr).not.toContain(f.apiKey)

    const ended = await f.server.until(() => allEnded(f.server), 90_000, 'every task ended')
    expect(ended, f.server.describe()).toBe('all completed')

    // tasks moved from both victims, by a drain and by a dropped connection, with their patches
    const moved = tasks.filter((t) => t.moves.length > 0)
    expect(moved.some((t) => t.moves[0].from === drained.daemonId && t.moves[0].why.startsWith('drained'))).toBe(true)
    expect(moved.some((t) => t.moves[0].from === killed.daemonId && t.moves[0].why.startsWith('connection'))).toBe(true)
    for (const t of moved) expect(t.daemonId, f.server.describe()).toBe(survivor.daemonId)
    const withPatch = moved.filter((t) => t.assignments.at(-1)!.patch !== undefined)
    expect(withPatch.length).toBeGreaterThanOrEqual(2)

    // the work written before the move is in the final worktree, byte for byte (nothing rewrote it)
    const carried = withPatch.reduce((n, t) => n + expectWorkCarried(f, survivor, t), 0)
    expect(carried).toBeGreaterThan(0)

    // the moved conversations: the server's history as context, else the plan and a note
    for (const t of withPatch) {
      const first = api.calls.find((c) => c.firstUserText.includes(t.spawn.plan) && (c.firstUserText.includes('has moved here') || c.firstUserText.includes(`FLEET-HISTORY ${t.id}`)))
      expect(first, `the first call of moved task ${t.id}`).toBeDefined()
    }

    // per daemon, no seq is missing; nothing but JSON was sent
    expectNoSeqGaps(f.server)
    expect(f.server.badFrames).toEqual([])
    // no Claude Code or tool process is left, of any task, and nothing of the two victims' pods
    await waitFor(() => tasks.every((t) => taskPids(t.id).length === 0), {timeoutMs: 15_000, description: 'no task process left'})
    expect(processesWithEnv(TEST_ENV_MARKER, drained.t.id)).toEqual([])
    expect(processesWithEnv(TEST_ENV_MARKER, killed.t.id)).toEqual([])

    survivor.daemon.kill('SIGTERM')
    expect((await survivor.daemon.wait()).code).toBe(0)
    // FLEET_DEBUG=1: what the server did, and the drained daemon's log
    if (process.env.FLEET_DEBUG) console.log(`${f.server.log.join('\n')}\ndrain ${drainMs} ms\n${exit.stderr.slice(-3000)}`)
  }, 150_000) // ~30 s alone; real Claude Code runs on a shared 2-core machine

  test("a daemon drains while the server is down; a new daemon on its volume delivers the drained tasks' messages when the server is back, and the tasks go on on another daemon", async () => {
    const f = await fleet({MAKIMA_DAEMON_DAEMON_DRAINGRACESECS: '3'})
    const first = await f.startPod('a')
    const tasks = [f.submit('fleet writer (down 1)'), f.submit('fleet writer (down 2)')]
    await f.server.until(() => tasks.every((t) => t.lastPatch?.daemonId === first.daemonId), 45_000, 'both tasks wrote a file')

    await f.server.close()
    const lastSeqReceived = Math.max(...f.server.daemons.get(first.daemonId)!.seqs)
    first.daemon.kill('SIGTERM')
    const exit = await first.daemon.wait()
    expect(exit.code, exit.stderr).toBe(0)
    expect(exit.stderr).toMatch(/drain done in [\d.]+s: 2 task\(s\) ended, 2 handed over with a patch; \d+ message\(s\) left unacked in the outbox for the next start/)
    for (const t of tasks) expect(t).toMatchObject({state: 'assigned', daemonId: first.daemonId}) // the server heard nothing

    await f.server.restart()
    const again = await f.startPod('a, restarted on its volume', {t: first.t})
    expect(again.daemonId).toBe(first.daemonId)
    const auth = f.server.daemons.get(first.daemonId)!.authentications.at(-1)
    expect(auth.activeTaskIds).toEqual([])
    expect(auth.lastAckedSeq).toBeLessThanOrEqual(lastSeqReceived)
    // the drain's patches and ends arrive now, with the seqs that follow
    await f.server.until(() => tasks.every((t) => t.moves.length > 0), 20_000, 'both drained tasks delivered')
    for (const t of tasks) {
      expect(t.moves[0].why).toBe(`drained on ${first.daemonId.slice(0, 8)}`)
      expect(t.lastPatch!.seq).toBeGreaterThan(lastSeqReceived) // the drain's own snapshot
    }
    const other = await f.startPod('c')
    const ended = await f.server.until(() => allEnded(f.server), 60_000, 'both tasks ended')
    expect(ended, f.server.describe()).toBe('all completed')
    for (const t of tasks) {
      expect(t.daemonId).toBe(other.daemonId)
      expectWorkCarried(f, other, t)
    }
    expectNoSeqGaps(f.server)
    await waitFor(() => tasks.every((t) => taskPids(t.id).length === 0), {timeoutMs: 15_000, description: 'no task process left'})
    for (const pod of [again, other]) {
      pod.daemon.kill('SIGTERM')
      expect((await pod.daemon.wait()).code).toBe(0)
    }
  }, 120_000)

  test('a spawnTask still being set up when SIGTERM comes is handed back too: ended as drained, never started', async () => {
    const f = await fleet({MAKIMA_DAEMON_DAEMON_DRAINGRACESECS: '10'})
    // every clone this daemon makes waits 2 s in git upload-pack (a slow network)
    const slowPack = join(f.origin, 'slow-pack.sh')
    writeFileSync(slowPack, '#!/bin/sh\nsleep 2\nexec "$@"\n')
    chmodSync(slowPack, 0o755)
    const slow = await f.startPod('slow', {gitconfig: `[uploadpack]\n\tpackObjectsHook = ${slowPack}\n`})
    const task = f.submit('fleet quick (in flight)')
    await waitFor(() => processesWithEnv(TEST_ENV_MARKER, slow.t.id).some((pid) => processCmdline(pid) === 'sleep 2'), {timeoutMs: 20_000, description: 'the clone is under way'})
    slow.daemon.kill('SIGTERM')
    const exit = await slow.daemon.wait()
    expect(exit.code, exit.stderr).toBe(0)
    expect(exit.stderr).toMatch(/the server acked every message/)
    expect(task.moves[0]?.why, f.server.describe()).toBe(`drained on ${slow.daemonId.slice(0, 8)}`)
    expect(task.statuses.filter((s) => s.daemonId === slow.daemonId).map((s) => s.to)).not.toContain('running')
    expect(processesWithEnv(TEST_ENV_MARKER, slow.t.id)).toEqual([])

    const next = await f.startPod('next')
    await f.server.until(() => task.state === 'completed', 60_000, 'the task completed on the next daemon')
    expect(task.daemonId).toBe(next.daemonId)
    expectNoSeqGaps(f.server)
    next.daemon.kill('SIGTERM')
    expect((await next.daemon.wait()).code).toBe(0)
  }, 90_000)
})
