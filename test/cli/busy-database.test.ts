// Another process holding makima.db's write lock for longer than SQLite's busy timeout (10 s) —
// a backup tool, an `sqlite3` shell, a stuck makima — slows tasks down and never fails them: the
// real claude against the scripted API prints tool output while the lock is held, and the task
// still completes with every line stored; a `task spawn --detach` started meanwhile waits for the
// lock (saying so once on stderr) and succeeds.
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {useCleanup} from '../support/cli.js'
import {holdWriteLock} from '../support/db-lock.js'
import {byPrompt} from '../support/scripted-api.js'
import {gate, taskWorld} from '../support/task-helpers.js'

useCleanup()

const LOCK_MS = 25_000 // past the 10 s busy timeout, with room for claude's turns on a loaded machine
const LINES = 200

describe('a database locked by another process', () => {
  test('a running task completes with all its output; a spawn --detach waits for the lock and succeeds', async () => {
    const lockHeld = gate()
    const w = await taskWorld(
      byPrompt({
        'second plan': {text: 'second task done'},
        'first plan': async (ctx) => {
          if (ctx.turn > 0) return {text: 'first task done'}
          await lockHeld.opened
          return {bash: `for i in $(seq 1 ${LINES}); do echo locked-line-$i; done`}
        },
      }),
    )
    const db = join(w.t.makimaHome, 'makima.db')
    const waitingLine = `makima: waiting for the database ${db}: another process holds its write lock (makima waits up to 5 min)`

    const first = w.spawn(['task', 'spawn', '--repo', w.repo.dir, 'first plan'])
    while (w.api.calls.length === 0 && first.exit === undefined) await new Promise((resolve) => setTimeout(resolve, 100))
    const lock = await holdWriteLock(db, LOCK_MS)
    const lockedAt = Date.now()
    lockHeld.open() // claude now runs the tool and prints its output while the lock is held
    const second = w.spawn(['task', 'spawn', '--detach', '--repo', w.repo.dir, 'second plan'])
    // The transcript goes on while the lock is held (the lines wait in memory); the task cannot
    // end before its lines are stored.
    await first.waitForOutput(/first task done/, LOCK_MS, 'stdout')
    const transcriptDoneAt = Date.now()
    expect(first.exit).toBeUndefined()

    const spawned = await second.wait()
    expect(spawned.code, spawned.stderr).toBe(0)
    expect(Date.now() - lockedAt).toBeGreaterThan(10_000) // it waited past the busy timeout
    expect(spawned.stderr.split('\n').filter((l) => l.includes('waiting for the database'))).toEqual([waitingLine])
    const secondId = spawned.stdout.trim()

    const ran = await first.wait()
    const releasedAt = await lock.released
    expect(ran.code, ran.stderr).toBe(0)
    expect(ran.stdout).toContain('first task done')
    // claude printed the tool's output and asked for its next turn while the lock was held
    expect(w.api.calls.find((c) => c.toolResults.length > 0)!.request.at).toBeLessThan(releasedAt)
    expect(transcriptDoneAt).toBeLessThan(releasedAt)
    expect(ran.stderr.split('\n').filter((l) => l.includes('waiting for the database'))).toEqual([waitingLine])
    expect(ran.stderr).toMatch(new RegExp(`^makima: the database ${db} is free again after \\d+ s$`, 'm'))

    const [task] = (await w.json(['task', 'list', '--all'])).filter((t: {id: string}) => t.id !== secondId)
    expect(task).toMatchObject({state: 'completed', error: null})
    const logs = await w.makima(['task', 'logs', '--raw', task.id])
    const printed = new Set([...logs.stdout.matchAll(/locked-line-(\d+)/g)].map((m) => Number(m[1])))
    expect([...printed].sort((a, b) => a - b)).toEqual(Array.from({length: LINES}, (_, i) => i + 1))
    expect(logs.stdout).toContain('first task done')

    const waited = await w.makima(['task', 'wait', '--timeout', '60', secondId])
    expect(waited.code, waited.stderr).toBe(0)
    expect((await w.json(['task', 'show', secondId])).state).toBe('completed')
  })
})
