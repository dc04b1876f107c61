import {mkdtempSync, rmSync, statSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'

import Database from 'better-sqlite3'

import {PAGE_SIZE} from '../../src/lib/store/database.js'
import {MIGRATIONS} from '../../src/lib/store/schema.js'
import {Store} from '../../src/lib/store/store.js'
import type {TaskRecord} from '../../src/lib/store/task-record.js'

const dirs: string[] = []
function tempDb(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'makima-store-'))
  dirs.push(dir)
  return path.join(dir, 'makima.db')
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true})
})

function record(id: string, patch: Partial<TaskRecord> = {}): TaskRecord {
  const now = new Date().toISOString()
  return {
    id, shortId: id.slice(0, 8), name: `task ${id.slice(0, 4)}`, state: 'pending', plan: 'do it', origin: 'cli',
    repoSource: null, repoPath: null, baseBranch: null, targetBranch: null, targetRepo: null, branch: null,
    worktreePath: null, baseSha: null, parentTaskId: null, isOrchestrator: false, isSupervisor: false,
    autonomous: false, contractId: null, continueFromTaskId: null, copyFiles: null, completionActionKind: 'none',
    completionAction: null, pid: null, runnerPid: null, runnerStart: null, exitCode: null, error: null,
    sessionId: null, needsRecovery: false, createdAt: now, startedAt: null, completedAt: null, updatedAt: now,
    ...patch,
  }
}
/** The file's size once it passes `bytes`, or when `ms` have gone by (whatever it is then). */
async function sizeWithin(file: string, bytes: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms
  while (statSync(file).size <= bytes && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
  return statSync(file).size
}
const id = (prefix: string) => `${prefix.padEnd(8, '0')}-0000-4000-8000-000000000000`

describe('Store on a real SQLite file', () => {
  it('creates the schema once and reopens at the same version, in WAL mode', () => {
    const file = tempDb()
    const a = Store.open(file)
    const version = a.schemaVersion
    expect(version).toBeGreaterThan(0)
    expect(a.db.pragma('journal_mode', {simple: true})).toBe('wal')
    a.close()
    const b = Store.open(file)
    expect(b.schemaVersion).toBe(version)
    b.close()
    expect(statSync(file).size).toBeGreaterThan(0)
  })

  it('migrates a database of schema 3 (output WITHOUT ROWID) keeping every output line and its numbering', () => {
    const file = tempDb()
    const old = new Database(file)
    for (const sql of MIGRATIONS.slice(0, 3)) old.exec(sql)
    old.pragma('user_version = 3')
    const insert = old.prepare("INSERT INTO output (task_id, seq, ts, stream, line) VALUES (?, ?, 1, 'stdout', ?)")
    for (let i = 1; i <= 3; i++) insert.run(id('0000000f'), i, `old line ${i}`)
    old.close()
    const store = Store.open(file)
    expect(store.schemaVersion).toBe(MIGRATIONS.length)
    store.output.push(id('0000000f'), 'stdout', 'new line')
    store.output.flush()
    expect(store.output.read(id('0000000f')).map((l) => [l.seq, l.line])).toEqual([[1, 'old line 1'], [2, 'old line 2'], [3, 'old line 3'], [4, 'new line']])
    // (task_id, seq) stays unique
    expect(() => store.db.prepare("INSERT INTO output (task_id, seq, ts, stream, line) VALUES (?, 1, 1, 'stdout', 'dup')").run(id('0000000f'))).toThrow(/UNIQUE/)
    store.close()
  })

  it('resolves ids by unique prefix and names unknown, ambiguous and malformed ones', () => {
    const store = Store.open(tempDb())
    store.tasks.insert(record(id('abcd1111')))
    store.tasks.insert(record(id('abcd2222')))
    expect(store.tasks.resolve('abcd1').id).toBe(id('abcd1111'))
    expect(() => store.tasks.resolve('abcd')).toThrow(/ambiguous.*abcd1111.*abcd2222/)
    expect(() => store.tasks.resolve('ffff')).toThrow(expect.objectContaining({code: 'NOT_FOUND'}))
    expect(() => store.tasks.resolve('ab')).toThrow(expect.objectContaining({code: 'INVALID_INPUT'}))
    expect(() => store.tasks.resolve('zz; drop')).toThrow(/invalid task id "zz; drop"/)
    store.close()
  })

  it('holds the concurrency cap across two connections to the same file', () => {
    const file = tempDb()
    const a = Store.open(file)
    const b = Store.open(file)
    const caps = {maxConcurrentTasks: 2}
    a.tasks.acquireSlot(record(id('00000001')), caps)
    b.tasks.acquireSlot(record(id('00000002')), caps)
    expect(() => a.tasks.acquireSlot(record(id('00000003')), caps)).toThrow(expect.objectContaining({code: 'CONCURRENCY_LIMIT'}))
    // nothing was recorded for the refused task
    expect(b.tasks.get(id('00000003'))).toBeUndefined()
    // a pending task holds no slot; ending a task frees one
    b.tasks.insert(record(id('00000004')))
    b.tasks.transition(id('00000001'), ['initializing'], 'completed')
    expect(a.tasks.acquireSlot(id('00000004'), caps).newState).toBe('initializing')
    a.close()
    b.close()
  })

  it('refuses a transition from the wrong state and names the state', () => {
    const store = Store.open(tempDb())
    store.tasks.insert(record(id('00000009'), {state: 'completed'}))
    expect(() => store.tasks.transition(id('00000009'), ['running'], 'paused')).toThrow(/is completed; cannot move it to paused/)
    store.close()
  })

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

  it('new databases use 64 KiB pages', () => {
    const store = Store.open(tempDb())
    expect(store.db.pragma('page_size', {simple: true})).toBe(PAGE_SIZE)
    store.close()
  })

  it('numbers a task\'s lines right when two processes write them in turns (no cached numbering collides)', () => {
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
    expect(b.output.read(id('00000010')).map((l) => [l.seq, l.line])).toEqual([[1, 'a1'], [2, 'b1'], [3, 'a2']])
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

  it('a line the background writer cannot store makes flush() throw with SQLite\'s reason', () => {
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
    expect(store.output.read(id('0000000d')).map((l) => [l.seq, l.line])).toEqual([[1, 'd 0'], [2, 'd 1'], [3, 'd 3'], [4, 'd 6']])
    expect(store.output.read(id('0000000e')).map((l) => [l.seq, l.line])).toEqual([[1, 'e 2'], [2, 'e 4'], [3, 'e 5'], [4, 'e again']])
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
    expect(g.slice(0, 3).map((l) => [l.stream, l.line])).toEqual([['stderr', 'line 0 '], ['stdout', 'line 3 xxx'], ['stdout', 'line 6 xxxxxx']])
    expect(f.at(-1)!.line).toBe(`line 998 ${'x'.repeat(998 % 7)}`)
    store.close()
  })

  it('inbox items are taken once, in order, by kind', () => {
    const store = Store.open(tempDb())
    const t = id('0000000b')
    store.inbox.push(t, 'message', 'one')
    store.inbox.push(t, 'interrupt')
    store.inbox.push(t, 'message', 'two')
    expect(store.inbox.pendingCount(t, 'message')).toBe(2)
    expect(store.inbox.take(t, 'message').map((m) => m.payload)).toEqual(['one', 'two'])
    expect(store.inbox.take(t, 'message')).toEqual([])
    expect(store.inbox.take(t).map((m) => m.kind)).toEqual(['interrupt'])
    store.close()
  })

  it('polling the inbox is a plain read: it does not wait behind another process\'s write transaction', () => {
    const file = tempDb()
    const store = Store.open(file)
    store.tasks.insert(record(id('00000011')))
    const other = new Database(file)
    other.exec('BEGIN IMMEDIATE') // another process in the middle of a write
    const started = Date.now()
    expect(store.inbox.take(id('00000011'), 'interrupt')).toEqual([])
    expect(Date.now() - started).toBeLessThan(2000) // busy_timeout is 10 s
    other.exec('COMMIT')
    store.inbox.push(id('00000011'), 'interrupt')
    expect(store.inbox.take(id('00000011'), 'interrupt')).toHaveLength(1)
    expect(store.inbox.take(id('00000011'), 'interrupt')).toEqual([])
    other.close()
    store.close()
  })

  it('keeps history until the retention period has passed', () => {
    const store = Store.open(tempDb())
    const old = new Date(Date.now() - 40 * 86_400_000).toISOString()
    store.tasks.insert(record(id('0000000c'), {state: 'completed', completedAt: old, repoPath: '/src/repo'}))
    store.tasks.insert(record(id('0000000d'), {state: 'completed', completedAt: new Date().toISOString()}))
    store.tasks.insert(record(id('0000000e'), {state: 'running', runnerPid: process.pid}))
    store.output.push(id('0000000c'), 'stdout', 'x')
    store.output.flush()
    expect(store.tasks.purgeEnded(30)).toEqual([{id: id('0000000c'), repoPath: '/src/repo'}])
    expect(store.tasks.list({all: true}).map((t) => t.id).sort()).toEqual([id('0000000d'), id('0000000e')])
    expect(store.output.count(id('0000000c'))).toBe(0)
    store.close()
  })

  it('purges without the write lock when nothing has expired (every spawn asks)', () => {
    const file = tempDb()
    const store = Store.open(file)
    store.tasks.insert(record(id('0000000f'), {state: 'completed', completedAt: new Date().toISOString()}))
    const other = new Database(file)
    other.pragma('busy_timeout = 0')
    other.exec('BEGIN IMMEDIATE') // another process holds the write lock
    try {
      store.db.pragma('busy_timeout = 0') // a write here would fail at once with SQLITE_BUSY
      expect(store.tasks.purgeEnded(30)).toEqual([])
    } finally {
      other.exec('ROLLBACK')
      other.close()
      store.close()
    }
  })
})

describe('OutboxStore', () => {
  const limits = {maxMessages: 1000, maxBytes: 1_000_000}

  it('numbers messages strictly increasing across restarts, never reusing a seq after acks', () => {
    const file = tempDb()
    const a = Store.open(file)
    const first = a.outbox.append([{type: 'taskOutput', taskId: 't', body: {output: 'one'}}, {type: 'taskStatusChange', taskId: 't', body: {}}], limits)
    expect(first.messages.map((m) => m.seq)).toEqual([1, 2])
    expect(JSON.parse(first.messages[0].payload)).toEqual({type: 'taskOutput', output: 'one', seq: 1})
    expect(a.outbox.ack(2)).toBe(2)
    a.close()
    const b = Store.open(file)
    expect(b.outbox.depth.messages).toBe(0)
    expect(b.outbox.lastAckedSeq()).toBe(2)
    expect(b.outbox.append([{type: 'taskOutput', body: {}}], limits).messages[0].seq).toBe(3)
    b.close()
  })

  it('drops the oldest taskOutput first and never status or completion messages', () => {
    const store = Store.open(tempDb())
    const small = {maxMessages: 3, maxBytes: 1_000_000}
    store.outbox.append([{type: 'taskStatusChange', body: {n: 1}}, {type: 'taskOutput', body: {n: 2}}, {type: 'taskOutput', body: {n: 3}}], small)
    const {dropped} = store.outbox.append([{type: 'taskComplete', body: {n: 4}}, {type: 'taskComplete', body: {n: 5}}], small)
    expect(dropped).toBe(2)
    expect(store.outbox.pending().map((m) => m.type)).toEqual(['taskStatusChange', 'taskComplete', 'taskComplete'])
    // nothing droppable left: the bound yields rather than lose a completion
    store.outbox.append([{type: 'taskComplete', body: {n: 6}}], small)
    expect(store.outbox.depth.messages).toBe(4)
    store.close()
  })
})
