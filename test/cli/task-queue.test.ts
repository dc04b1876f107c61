// The machine's queue (issue 19, section 4): with --queue a task that finds every slot taken is
// recorded as queued and started, first queued first started, by whichever makima process frees
// a slot; against the real `claude` and a scripted API whose every answer takes a few seconds.
import {describe, expect, test} from 'vitest'

import {steps} from '../support/scripted-api.js'
import {errorLines, gate, taskWorld, useTaskCleanup} from '../support/task-helpers.js'

useTaskCleanup()

const slow = () => steps({delayMs: 2500, then: {text: 'slow but done'}})
const cap = {MAKIMA_DAEMON_PROCESS_MAXCONCURRENTTASKS: '1'}

async function exited(pid: number, withinMs: number): Promise<boolean> {
  for (const end = Date.now() + withinMs; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    try {
      process.kill(pid, 0)
    } catch {
      return true
    }
  }
  return false
}

describe('task spawn --queue with a cap of one slot', () => {
  test('detached: the first runs, the others wait in order with their places, all complete in order', async () => {
    const w = await taskWorld(slow(), cap)
    const ids: string[] = []
    for (const plan of ['first', 'second', 'third']) {
      const r = await w.makima(['task', 'spawn', '--repo', w.repo.dir, '--detach', '--queue', plan])
      expect(r.code, r.stderr).toBe(0)
      ids.push(r.stdout.trim())
    }
    const list = await w.json(['task', 'list'])
    const byId = new Map(list.map((t: any) => [t.id, t]))
    expect((byId.get(ids[1]) as any).state).toBe('queued')
    expect((byId.get(ids[1]) as any).queuePosition).toBe(1)
    expect((byId.get(ids[2]) as any).queuePosition).toBe(2)
    expect((byId.get(ids[0]) as any).queuePosition).toBeNull()
    const table = await w.makima(['task', 'list'])
    expect(table.stdout).toMatch(/queued #2/)
    for (const id of ids) {
      const waited = await w.makima(['task', 'wait', id, '--timeout', '60'], {timeoutMs: 70_000})
      expect(waited.code, waited.stderr).toBe(0)
    }
    const ended = await Promise.all(ids.map((id) => w.json(['task', 'show', id])))
    expect(ended.map((t) => t.state)).toEqual(['completed', 'completed', 'completed'])
    expect(ended[0].completedAt <= ended[1].startedAt && ended[1].completedAt <= ended[2].startedAt).toBe(true)
    // the runner whose task ended ran the next queued one itself (no new process between them),
    // and exits once the queue it took on is done
    expect(ended.map((t) => t.runnerPid)).toEqual([ended[0].runnerPid, ended[0].runnerPid, ended[0].runnerPid])
    expect(await exited(ended[0].runnerPid, 20_000)).toBe(true)
  }, 180_000)

  test('attached: shows "queued (1 ahead)", then runs here and completes', async () => {
    const w = await taskWorld(slow(), cap)
    const first = await w.makima(['task', 'spawn', '--repo', w.repo.dir, '--detach', 'first'])
    expect(first.code, first.stderr).toBe(0)
    const queued = await w.makima(['task', 'spawn', '--repo', w.repo.dir, '--detach', '--queue', 'second'])
    expect(queued.code, queued.stderr).toBe(0)
    const attached = w.spawn(['task', 'spawn', '--repo', w.repo.dir, '--queue', 'third'])
    attached.end()
    await attached.waitForOutput(/queued \(1 ahead\)/, 30_000, 'stderr')
    const exit = await attached.wait()
    expect(exit.code, attached.stderr).toBe(0)
    const all = await w.json(['task', 'list', '--all'])
    expect(all.map((t: any) => t.state)).toEqual(['completed', 'completed', 'completed'])
  }, 180_000)

  test('without --queue the full cap still exits 4; interrupting a queued task removes it from the queue', async () => {
    // the first task holds its slot until the queue has been looked at (a loaded machine is slow)
    const hold = gate()
    const w = await taskWorld(
      steps(async () => {
        await hold.opened
        return {text: 'held, then done'}
      }),
      cap,
    )
    const first = await w.makima(['task', 'spawn', '--repo', w.repo.dir, '--detach', 'first'])
    expect(first.code, first.stderr).toBe(0)
    const refused = await w.makima(['task', 'spawn', '--repo', w.repo.dir, '--detach', 'refused'])
    expect(refused.code).toBe(4)
    expect(errorLines(refused.stderr)[0]).toMatch(/concurren/i)
    const a = (await w.makima(['task', 'spawn', '--repo', w.repo.dir, '--detach', '--queue', 'removed'])).stdout.trim()
    const b = (await w.makima(['task', 'spawn', '--repo', w.repo.dir, '--detach', '--queue', 'kept'])).stdout.trim()
    const interrupted = await w.json(['task', 'interrupt', a])
    expect(interrupted.state).toBe('interrupted')
    expect(interrupted.error).toBe('removed from the queue')
    expect((await w.json(['task', 'show', b])).queuePosition).toBe(1)
    hold.open()
    const waited = await w.makima(['task', 'wait', b, '--timeout', '60'], {timeoutMs: 70_000})
    expect(waited.code, waited.stderr).toBe(0)
    expect((await w.json(['task', 'show', a])).startedAt).toBeNull()
    expect((await w.json(['task', 'list', '--all'])).map((t: any) => t.state)).toEqual(['completed', 'interrupted', 'completed'])
  }, 180_000)

  test('a queued task whose attached spawn was killed is started by the process that frees the slot', async () => {
    const w = await taskWorld(slow(), cap)
    const first = (await w.makima(['task', 'spawn', '--repo', w.repo.dir, '--detach', 'first'])).stdout.trim()
    const owner = w.spawn(['task', 'spawn', '--repo', w.repo.dir, '--queue', 'orphaned'])
    owner.end()
    await owner.waitForOutput(/queued \(0 ahead\)/, 30_000, 'stderr')
    owner.kill('SIGKILL')
    await owner.wait()
    const queued = (await w.json(['task', 'list'])).find((t: any) => t.state === 'queued')
    expect(queued).toBeTruthy()
    await w.makima(['task', 'wait', first, '--timeout', '60'], {timeoutMs: 70_000})
    const waited = await w.makima(['task', 'wait', queued.id, '--timeout', '60'], {timeoutMs: 70_000})
    expect(waited.code, waited.stderr).toBe(0)
    expect((await w.json(['task', 'show', queued.id])).state).toBe('completed')
  }, 180_000)
})
