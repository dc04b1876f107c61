// A busy database (another process holds its write lock past SQLite's busy timeout) slows the
// store down and never fails it, on a real SQLite file with a real process holding the lock: task
// output waits in memory (on the main thread, or in the writer thread's queue) and is stored once
// the lock is released; state changes wait; only a wait past the budget, or too much output
// waiting, fails, with a message naming the file. The waits are short here (MAKIMA_TEST_*).
import {afterEach, beforeAll, describe, expect, it, vi} from 'vitest'

import {useCleanup} from '../support/cli.js'
import {holdWriteLock} from '../support/db-lock.js'
import {id, record, tempDbs} from '../support/store-fixtures.js'

process.env.MAKIMA_TEST_BUSY_TIMEOUT_MS = '200'
process.env.MAKIMA_TEST_BUSY_BUDGET_MS = '2500'
process.env.MAKIMA_TEST_MAX_BUFFERED_BYTES = String(1024 * 1024)
// Read when the store's modules load: after the variables above are set.
const {Store} = await import('../../src/lib/store/store.js')

useCleanup()
const tempDb = tempDbs()

/** What the store says on stderr, line by line. */
let stderr: string[]
beforeAll(() => {
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr.push(...String(chunk).split('\n').filter(Boolean))
    return true
  })
})
afterEach(() => {
  stderr = []
})
stderr = []

const waiting = (file: string) => stderr.filter((l) => l === `makima: waiting for the database ${file}: another process holds its write lock (makima waits up to 3 s)`)
const freeAgain = (file: string) => stderr.filter((l) => l.startsWith(`makima: the database ${file} is free again after`))

function openWithTask(file: string, prefix: string) {
  const store = Store.open(file)
  store.tasks.insert(record(id(prefix)))
  return store
}

describe('a busy database', () => {
  it('keeps output in memory on the main thread while another process holds the lock, then stores all of it in order', async () => {
    const file = tempDb()
    const store = openWithTask(file, '000000b1')
    const lock = await holdWriteLock(file, 1200)
    for (let i = 1; i <= 300; i++) {
      store.output.push(id('000000b1'), 'stdout', `line ${i}`)
      if (i % 100 === 0) store.output.handOff() // the run's tick: never throws while busy
    }
    expect(store.output.pendingCount).toBe(300)
    expect(waiting(file)).toHaveLength(1)
    store.output.push(id('000000b1'), 'makima', 'last')
    const started = Date.now()
    store.output.flush() // waits for the lock (the holder's clock runs out ~1 s from now)
    expect(Date.now() - started).toBeGreaterThan(500)
    await lock.released
    const lines = store.output.read(id('000000b1'))
    expect(lines.map((l) => l.line)).toEqual([...Array.from({length: 300}, (_, i) => `line ${i + 1}`), 'last'])
    expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1))
    expect(waiting(file)).toHaveLength(1)
    expect(freeAgain(file)).toHaveLength(1)
    store.close()
  })

  it("keeps output in the writer thread's queue while another process holds the lock, then stores all of it", async () => {
    const file = tempDb()
    const store = openWithTask(file, '000000b2')
    expect(store.output.startBackgroundWriter()).toBe(true)
    const lock = await holdWriteLock(file, 1200)
    for (let i = 1; i <= 5000; i++) {
      store.output.push(id('000000b2'), 'stdout', `line ${i}`)
      if (i % 500 === 0) store.output.handOff()
    }
    store.output.flush()
    await lock.released
    const lines = store.output.read(id('000000b2'))
    expect(lines).toHaveLength(5000)
    expect(lines.at(-1)).toMatchObject({seq: 5000, line: 'line 5000'})
    expect(waiting(file)).toHaveLength(1)
    expect(freeAgain(file)).toHaveLength(1)
    store.close()
  })

  it('state changes and slots wait for the lock instead of failing', async () => {
    const file = tempDb()
    const store = Store.open(file)
    store.tasks.insert(record(id('000000b3')))
    const lock = await holdWriteLock(file, 800)
    const started = Date.now()
    const change = store.tasks.acquireSlot(id('000000b3'), {maxConcurrentTasks: 5})
    expect(Date.now() - started).toBeGreaterThan(500) // it waited for the lock
    expect(change.newState).toBe('initializing')
    await lock.released
    expect(store.tasks.update(id('000000b3'), {sessionId: 's'}).sessionId).toBe('s')
    expect(waiting(file)).toHaveLength(1)
    store.close()
  })

  it('fails past the budget, naming the file and what to do, and stores the lines once the lock is gone', async () => {
    const file = tempDb()
    const store = openWithTask(file, '000000b4')
    const lock = await holdWriteLock(file, 4000)
    store.output.push(id('000000b4'), 'stdout', 'kept')
    const message = new RegExp(`^the database ${file} has been locked by another process for \\d+ s; find the process that holds it \\(fuser ${file}\\) and end it$`)
    expect(() => store.output.flush()).toThrow(message)
    await lock.released
    store.output.flush()
    expect(store.output.read(id('000000b4')).map((l) => l.line)).toEqual(['kept'])
    store.close()
  })

  it('fails when more output waits in memory than the bound, naming the file', async () => {
    const file = tempDb()
    const store = openWithTask(file, '000000b5')
    await holdWriteLock(file, 1500)
    const tryToStore = () => {
      for (let i = 0; i < 40; i++) {
        store.output.push(id('000000b5'), 'stdout', 'x'.repeat(50_000))
        store.output.handOff()
      }
    }
    expect(tryToStore).toThrow(new RegExp(`^\\d+ MB of task output is waiting in memory for the database ${file}, locked by another process for \\d+ s \\(makima keeps at most 1 MB\\)`))
    store.output.flush()
    store.close()
  })
})
