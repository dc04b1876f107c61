// Controlling running tasks against the real `claude` and a scripted API: pause/resume and
// interrupt reach every process of the task (the Bash tool's own session included), Ctrl-C on an
// attached spawn, a runner that was SIGKILLed, and two CLI processes racing for the last slot.
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {isAlive, processState, waitFor} from '../support/processes.js'
import {steps} from '../support/scripted-api.js'
import {describeTaskProcesses, errorLines, lineCount, runnerPidFromLog, storedTasks, taskPids, taskWorld, useTaskCleanup, type TaskWorld} from '../support/task-helpers.js'

useTaskCleanup()

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

// Each tool command also leaves an orphan behind (a subshell that forks and exits): it is
// re-parented away from claude, so only the MAKIMA_TASK_ID marker in its environment finds it.
const orphan = (body: string) => `(${body} >/dev/null 2>&1 &); `
const loop = (file: string) => `for i in $(seq 1 40); do echo tick >> ${file}; sleep 0.25; done`
/** A tool command that appends a line to ticks.txt (and the orphan to orphan.txt) every 0.25 s for ~10 s. */
const TICKS = orphan(loop('orphan.txt')) + loop('ticks.txt')
/** A tool command that runs until it is killed (its orphan too). */
const FOREVER = orphan('sleep 301') + 'echo tick >> ticks.txt; sleep 300'

async function spawnDetached(w: TaskWorld, plan: string): Promise<{id: string; worktree: string}> {
  const {taskId} = await w.json(['task', 'spawn', '--repo', w.repo.dir, '--detach', plan])
  const task = await w.json(['task', 'show', taskId])
  expect(task.worktreePath).toBeTruthy()
  return {id: taskId, worktree: task.worktreePath}
}

/** Waits until the FOREVER tool command and its orphan run in the task. */
async function waitForTool(id: string): Promise<void> {
  const running = (cmd: string) => describeTaskProcesses(id).some((p) => p.cmd === cmd)
  await waitFor(() => running('sleep 300') && running('sleep 301'), {
    timeoutMs: 30_000,
    description: `task ${id} running "sleep 300" and its orphan "sleep 301"`,
  })
}

describe('task pause / resume', () => {
  test('stops every process of the task, the Bash tool included, and continues them', async () => {
    const w = await taskWorld(steps({bash: TICKS}, {text: 'ticking finished'}))
    const {id, worktree} = await spawnDetached(w, 'tick for a while')
    const ticks = join(worktree, 'ticks.txt')
    const orphanTicks = join(worktree, 'orphan.txt')
    await waitFor(() => lineCount(ticks) >= 2 && lineCount(orphanTicks) >= 2, {timeoutMs: 30_000, description: 'ticks grow'})

    const paused = await w.makima(['task', 'pause', id.slice(0, 8)])
    expect(paused.code, paused.stderr).toBe(0)
    expect(paused.stdout).toMatch(/paused/)
    expect((await w.json(['task', 'show', id])).state).toBe('paused')

    const procs = describeTaskProcesses(id)
    expect(
      procs.some((p) => p.cmd.includes('ticks.txt')),
      JSON.stringify(procs),
    ).toBe(true)
    expect(procs.filter((p) => p.cmd.includes('sleep')).length, JSON.stringify(procs)).toBeGreaterThanOrEqual(1)
    // SIGSTOP is delivered asynchronously; give the kernel a moment, then every one must be stopped.
    await waitFor(() => describeTaskProcesses(id).every((p) => p.state === 'T'), {
      timeoutMs: 2000,
      description: `every process of the task stopped: ${JSON.stringify(describeTaskProcesses(id))}`,
    })
    const frozen = lineCount(ticks)
    const orphanFrozen = lineCount(orphanTicks)
    // a duration is the point: every process is stopped (above); 2 s is 8 tick periods in which a
    // running loop would have written, and no event marks "still paused"
    await sleep(2000)
    expect(lineCount(ticks)).toBe(frozen)
    expect(lineCount(orphanTicks)).toBe(orphanFrozen)
    expect(taskPids(id).every((pid) => processState(pid) === 'T')).toBe(true)

    const resumed = await w.makima(['task', 'resume', id])
    expect(resumed.code, resumed.stderr).toBe(0)
    expect((await w.json(['task', 'show', id])).state).toBe('running')
    await waitFor(() => lineCount(ticks) > frozen && lineCount(orphanTicks) > orphanFrozen, {
      timeoutMs: 5000,
      description: 'ticks grow again',
    })
    expect(describeTaskProcesses(id).filter((p) => p.state === 'T')).toEqual([])

    const waited = await w.makima(['task', 'wait', id, '--timeout', '60'], {timeoutMs: 70_000})
    expect(waited.code, waited.stderr).toBe(0)
    const final = await w.json(['task', 'show', id])
    expect(final.state).toBe('completed')
    expect(lineCount(ticks)).toBe(40)
    await waitFor(() => taskPids(id).length === 0, {timeoutMs: 10_000, description: 'no process of the task left'})
  }, 150_000)
})

describe('task interrupt', () => {
  test('ends the task and every process it started; the worktree stays; a second interrupt exits 4', async () => {
    const w = await taskWorld(steps({bash: FOREVER}, {text: 'never reached'}))
    const {id, worktree} = await spawnDetached(w, 'run forever')
    await waitForTool(id)

    const r = await w.makima(['task', 'interrupt', id])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/interrupted/)
    expect(describeTaskProcesses(id)).toEqual([])
    const task = await w.json(['task', 'show', id])
    expect(task.state).toBe('interrupted')
    expect(task.pid).toBeNull()
    expect(existsSync(worktree)).toBe(true)
    expect(existsSync(join(worktree, 'ticks.txt'))).toBe(true)

    const again = await w.makima(['task', 'interrupt', id])
    expect(again.code).toBe(4)
    expect(errorLines(again.stderr)).toHaveLength(1)
    expect(errorLines(again.stderr)[0]).toContain(id.slice(0, 8))
  }, 120_000)

  test('a paused task can be interrupted: its stopped processes end too', async () => {
    const w = await taskWorld(steps({bash: FOREVER}, {text: 'never reached'}))
    const {id} = await spawnDetached(w, 'run forever, then pause')
    await waitForTool(id)
    expect((await w.makima(['task', 'pause', id])).code).toBe(0)
    await waitFor(() => describeTaskProcesses(id).every((p) => p.state === 'T'), {timeoutMs: 2000})

    const r = await w.makima(['task', 'interrupt', id])
    expect(r.code, r.stderr).toBe(0)
    expect(describeTaskProcesses(id)).toEqual([])
    expect(await w.json(['task', 'show', id])).toMatchObject({state: 'interrupted', pid: null})
  }, 120_000)

  test('Ctrl-C on an attached spawn interrupts the task and exits 130', async () => {
    const w = await taskWorld(steps({bash: FOREVER}, {text: 'never reached'}))
    const p = w.spawn(['task', 'spawn', '--repo', w.repo.dir, 'run forever attached'])
    const task = await waitFor(() => storedTasks(w).find((t) => t.state === 'running'), {
      timeoutMs: 30_000,
      description: 'the attached task is running',
    })
    await waitForTool(task.id)

    p.kill('SIGINT') // the makima process only, not its group: as if its own handler got Ctrl-C
    const exit = await p.wait()
    expect(exit.code, exit.stderr).toBe(130)
    const [final] = await w.json(['task', 'list', '--all'])
    expect(final).toMatchObject({id: task.id, state: 'interrupted', pid: null})
    expect(describeTaskProcesses(task.id)).toEqual([])
  }, 120_000)
})

describe('a runner that was SIGKILLed', () => {
  test('its task is marked interrupted by the next command and its leftover processes end', async () => {
    const w = await taskWorld(steps({bash: FOREVER}, {text: 'never reached'}))
    const {id} = await spawnDetached(w, 'run forever detached')
    await waitForTool(id)
    const runner = await runnerPidFromLog(w, id)
    expect(isAlive(runner)).toBe(true)
    expect(taskPids(id)).not.toContain(runner) // the runner carries no task marker
    // task show names the runner, so an operator can find the owner of a task
    expect(await w.json(['task', 'show', id])).toMatchObject({runnerPid: runner})

    process.kill(runner, 'SIGKILL')
    await waitFor(() => !isAlive(runner), {timeoutMs: 5000, description: `runner ${runner} gone`})
    const list = await w.json(['task', 'list', '--all'])
    expect(list).toHaveLength(1)
    expect(list[0]).toMatchObject({id, state: 'interrupted', error: `runner (pid ${runner}) exited unexpectedly`})
    await waitFor(() => taskPids(id).length === 0, {
      timeoutMs: 5000,
      description: `no process of the task left: ${JSON.stringify(describeTaskProcesses(id))}`,
    })
  }, 120_000)
})

describe('two CLI processes racing for the only slot', () => {
  const slow = () => steps({delayMs: 3000, then: {text: 'slow but done'}})
  const cap = {MAKIMA_DAEMON_PROCESS_MAXCONCURRENTTASKS: '1'}

  function expectOneLoser(exits: {code: number | null; stderr: string}[]): void {
    expect(exits.map((e) => e.code).sort(), exits.map((e) => e.stderr).join('\n---\n')).toEqual([0, 4])
    const loser = exits.find((e) => e.code === 4)!
    expect(errorLines(loser.stderr)).toHaveLength(1)
    expect(errorLines(loser.stderr)[0]).toMatch(/concurren/i)
  }

  test('attached spawns: one runs, the other exits 4 and records nothing', async () => {
    const w = await taskWorld(slow(), cap)
    const a = w.spawn(['task', 'spawn', '--repo', w.repo.dir, 'first racer'])
    const b = w.spawn(['task', 'spawn', '--repo', w.repo.dir, 'second racer'])
    a.end()
    b.end()
    const exits = await Promise.all([a.wait(), b.wait()])
    expectOneLoser(exits)
    const list = await w.json(['task', 'list', '--all'])
    expect(list).toHaveLength(1)
    expect(list[0].state).toBe('completed')
  }, 120_000)

  test('detached spawns: one runs, the other exits 4 and records nothing', async () => {
    const w = await taskWorld(slow(), cap)
    const exits = await Promise.all([w.makima(['task', 'spawn', '--repo', w.repo.dir, '--detach', 'first racer']), w.makima(['task', 'spawn', '--repo', w.repo.dir, '--detach', 'second racer'])])
    expectOneLoser(exits)
    const list = await w.json(['task', 'list', '--all'])
    expect(list).toHaveLength(1)
    const winner = exits.find((e) => e.code === 0)!
    expect(winner.stdout.trim()).toBe(list[0].id)
    const waited = await w.makima(['task', 'wait', list[0].id, '--timeout', '30'])
    expect(waited.code, waited.stderr).toBe(0)
    expect(taskPids(list[0].id)).toEqual([])
  }, 120_000)
})
