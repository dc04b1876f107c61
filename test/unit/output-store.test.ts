// The output log (src/lib/store/output-store.ts) on a real SQLite file: numbering across writers
// and processes, long batches, and the writer and checkpointer threads a burst of output starts.
import {statSync} from 'node:fs'
import {describe, expect, it} from 'vitest'

import {Store} from '../../src/lib/store/store.js'
import {id, record, tempDbs} from '../support/store-fixtures.js'

const tempDb = tempDbs()

/** The file's size once it passes `bytes`, or when `ms` have gone by (whatever it is then). */
async function sizeWithin(file: string, bytes: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms
  while (statSync(file).size <= bytes && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  return statSync(file).size
}

describe('OutputStore', () => {
  it('numbers output lines per task in order, across writers', () => {
    const file = tempDb()
    const a = Store.open(file)
    a.tasks.insert(record(id('0000000a')))
    for (let i = 0; i < 5; i++) a.output.push(id('0000000a'), 'stdout', `line ${i}`)
    a.output.flush()
    a.close()
    const b = Store.open(file)
    b.output.push(id('0000000a'), 'makima', 'later')
    b.output.flush()
    const lines = b.output.read(id('0000000a'))
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3, 4, 5, 6])
    expect(lines.at(-1)).toMatchObject({stream: 'makima', line: 'later'})
    expect(b.output.read(id('0000000a'), 4).map((l) => l.line)).toEqual(['line 4', 'later'])
    b.close()
  })

  it("numbers a task's lines right when two processes write them in turns (no cached numbering collides)", () => {
    const file = tempDb()
    const a = Store.open(file)
    const b = Store.open(file)
    a.tasks.insert(record(id('00000010')))
    a.output.push(id('00000010'), 'stdout', 'a1')
    a.output.flush()
    b.output.push(id('00000010'), 'makima', 'b1')
    b.output.flush()
    a.output.push(id('00000010'), 'stdout', 'a2')
    a.output.flush()
    expect(b.output.read(id('00000010')).map((l) => [l.seq, l.line])).toEqual([
      [1, 'a1'],
      [2, 'b1'],
      [3, 'a2'],
    ])
    a.close()
    b.close()
  })

  it('a background writer thread stores every line in order; flush() returns once readers see them', () => {
    const file = tempDb()
    const store = Store.open(file)
    const reader = Store.open(file)
    store.tasks.insert(record(id('00000011')))
    store.tasks.insert(record(id('00000012')))
    expect(store.output.startBackgroundWriter()).toBe(true)
    for (let i = 0; i < 5000; i++) {
      store.output.push(id(i % 3 === 0 ? '00000012' : '00000011'), 'stdout', `line ${i}`)
      if (i % 700 === 0) store.output.handOff()
    }
    store.output.push(id('00000011'), 'makima', 'done')
    store.output.flush()
    const lines = reader.output.read(id('00000011'))
    expect(lines.length).toBe(3334)
    expect(lines.map((l) => l.seq)).toEqual(Array.from({length: 3334}, (_, i) => i + 1))
    expect(lines.slice(0, 2).map((l) => l.line)).toEqual(['line 1', 'line 2'])
    expect(lines.at(-1)).toMatchObject({stream: 'makima', line: 'done'})
    expect(reader.output.count(id('00000012'))).toBe(1667)
    store.close()
    reader.close()
  })

  it('while a burst goes through the writer thread, the checkpointer copies it into the database file', async () => {
    const file = tempDb()
    const store = Store.open(file)
    store.tasks.insert(record(id('00000014')))
    expect(store.output.startBackgroundWriter()).toBe(true)
    const before = statSync(file).size
    for (let i = 0; i < 2500; i++) {
      store.output.push(id('00000014'), 'stdout', `${i} ${'y'.repeat(10_000)}`)
      if (i % 500 === 499) store.output.handOff()
    }
    store.output.flush()
    // 25 MB went to the write-ahead log; nobody else commits, so only the checkpointer can move it.
    expect(await sizeWithin(file, before + 20_000_000, 10_000)).toBeGreaterThan(before + 20_000_000)
    expect(store.output.count(id('00000014'))).toBe(2500)
    store.close()
  })

  it('while the writer thread runs, the checkpointer also moves other commits into the database file', async () => {
    const file = tempDb()
    const store = Store.open(file)
    expect(store.output.startBackgroundWriter()).toBe(true)
    const before = statSync(file).size
    // No output at all: 20 MB committed by this process's own connection, which no longer checkpoints.
    for (let i = 0; i < 20; i++) store.setMeta(`blob ${i}`, 'z'.repeat(1_000_000))
    expect(await sizeWithin(file, before + 15_000_000, 10_000)).toBeGreaterThan(before + 15_000_000)
    store.close()
  })

  it("a line the background writer cannot store makes flush() throw with SQLite's reason", () => {
    const file = tempDb()
    const store = Store.open(file)
    store.tasks.insert(record(id('00000013')))
    store.db.exec("CREATE TRIGGER refuse BEFORE INSERT ON output WHEN NEW.line = 'boom' BEGIN SELECT RAISE(ABORT, 'the disk says no'); END")
    expect(store.output.startBackgroundWriter()).toBe(true)
    store.output.push(id('00000013'), 'stdout', 'fine')
    store.output.flush()
    store.output.push(id('00000013'), 'stdout', 'boom')
    expect(() => store.output.flush()).toThrow(/storing task output failed: the disk says no/)
    store.output.push(id('00000013'), 'stdout', 'fine again')
    store.output.flush()
    expect(store.output.read(id('00000013')).map((l) => l.line)).toEqual(['fine', 'fine again'])
    store.close()
  })

  it('numbers the lines of several tasks interleaved in one flush (a daemon batch) per task', () => {
    const store = Store.open(tempDb())
    store.tasks.insert(record(id('0000000d')))
    store.tasks.insert(record(id('0000000e')))
    const order = ['d', 'd', 'e', 'd', 'e', 'e', 'd']
    order.forEach((t, i) => store.output.push(id(`0000000${t}`), 'stdout', `${t} ${i}`))
    expect(store.output.flush()).toBe(7)
    store.output.push(id('0000000e'), 'stdout', 'e again')
    store.output.flush()
    expect(store.output.read(id('0000000d')).map((l) => [l.seq, l.line])).toEqual([
      [1, 'd 0'],
      [2, 'd 1'],
      [3, 'd 3'],
      [4, 'd 6'],
    ])
    expect(store.output.read(id('0000000e')).map((l) => [l.seq, l.line])).toEqual([
      [1, 'e 2'],
      [2, 'e 4'],
      [3, 'e 5'],
      [4, 'e again'],
    ])
    store.close()
  })

  it('a long batch (many rows per INSERT, then the remainder) keeps every line, its stream and its number', () => {
    const store = Store.open(tempDb())
    store.tasks.insert(record(id('0000000f')))
    store.tasks.insert(record(id('00000010')))
    const n = 1000
    for (let i = 0; i < n; i++) store.output.push(id(i % 3 === 0 ? '00000010' : '0000000f'), i % 5 === 0 ? 'stderr' : 'stdout', `line ${i} ${'x'.repeat(i % 7)}`)
    expect(store.output.flush()).toBe(n)
    const f = store.output.read(id('0000000f'))
    const g = store.output.read(id('00000010'))
    expect(f.length + g.length).toBe(n)
    expect(f.map((l) => l.seq)).toEqual(f.map((_, i) => i + 1))
    expect(g.map((l) => l.seq)).toEqual(g.map((_, i) => i + 1))
    expect(g.slice(0, 3).map((l) => [l.stream, l.line])).toEqual([
      ['stderr', 'line 0 '],
      ['stdout', 'line 3 xxx'],
      ['stdout', 'line 6 xxxxxx'],
    ])
    expect(f.at(-1)!.line).toBe(`line 998 ${'x'.repeat(998 % 7)}`)
    store.close()
  })
})
