import {existsSync, statSync} from 'node:fs'
import {describe, expect, it} from 'vitest'

import Database from 'better-sqlite3'

import {PAGE_SIZE} from '../../src/lib/store/database.js'
import {moveDatabaseAside} from '../../src/lib/store/database-file.js'
import {MIGRATIONS} from '../../src/lib/store/schema.js'
import {Store} from '../../src/lib/store/store.js'
import {id, record, tempDbs} from '../support/store-fixtures.js'

const tempDb = tempDbs()

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
    expect(store.output.read(id('0000000f')).map((l) => [l.seq, l.line])).toEqual([
      [1, 'old line 1'],
      [2, 'old line 2'],
      [3, 'old line 3'],
      [4, 'new line'],
    ])
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

  it('new databases use 64 KiB pages', () => {
    const store = Store.open(tempDb())
    expect(store.db.pragma('page_size', {simple: true})).toBe(PAGE_SIZE)
    store.close()
  })

  it('a damaged database is moved aside with its write-ahead log, so the copy still holds every committed task', () => {
    const file = tempDb()
    const store = Store.open(file)
    store.db.pragma('wal_autocheckpoint = 0') // the task below stays in makima.db-wal
    store.tasks.insert(record(id('000000c1')))
    const copy = moveDatabaseAside(file, new Date('2030-01-02T03:04:05.678Z'))
    expect(copy).toBe(`${file}.corrupt-2030-01-02T03-04-05-678Z`)
    expect([file, `${file}-wal`, `${file}-shm`].filter((f) => existsSync(f))).toEqual([])
    const reader = new Database(copy, {readonly: true})
    expect(reader.prepare('SELECT id FROM tasks').all()).toEqual([{id: id('000000c1')}])
    reader.close()
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

  it("polling the inbox is a plain read: it does not wait behind another process's write transaction", () => {
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
    expect(
      store.tasks
        .list({all: true})
        .map((t) => t.id)
        .sort(),
    ).toEqual([id('0000000d'), id('0000000e')])
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
    const first = a.outbox.append(
      [
        {type: 'taskOutput', taskId: 't', body: {output: 'one'}},
        {type: 'taskStatusChange', taskId: 't', body: {}},
      ],
      limits,
    )
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
    store.outbox.append(
      [
        {type: 'taskStatusChange', body: {n: 1}},
        {type: 'taskOutput', body: {n: 2}},
        {type: 'taskOutput', body: {n: 3}},
      ],
      small,
    )
    const {dropped} = store.outbox.append(
      [
        {type: 'taskComplete', body: {n: 4}},
        {type: 'taskComplete', body: {n: 5}},
      ],
      small,
    )
    expect(dropped).toBe(2)
    expect(store.outbox.pending().map((m) => m.type)).toEqual(['taskStatusChange', 'taskComplete', 'taskComplete'])
    // nothing droppable left: the bound yields rather than lose a completion
    store.outbox.append([{type: 'taskComplete', body: {n: 6}}], small)
    expect(store.outbox.depth.messages).toBe(4)
    store.close()
  })
})
