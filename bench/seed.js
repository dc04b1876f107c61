// Seeds a makima database through the project's own store code (dist/lib/store/store.js), so
// the rows are exactly what makima writes. Every task is ended (completed or failed), so
// commands that reap stale runners have nothing to check.
import {randomUUID} from 'node:crypto'

/**
 * Insert `count` ended tasks into the database at `dbFile` (created if needed).
 * `storeModule` is the file URL of dist/lib/store/store.js.
 */
export async function seedTasks(storeModule, dbFile, count) {
  const {Store} = await import(storeModule)
  // every other field at its default (dist/lib/store/task-record.js): a new column needs nothing here
  const {newTaskRecord} = await import(new URL('task-record.js', storeModule).href)
  const store = Store.open(dbFile)
  try {
    const base = Date.parse('2025-01-01T00:00:00.000Z')
    const insertAll = store.db.transaction(() => {
      for (let i = 0; i < count; i++) store.tasks.insert(taskRecord(newTaskRecord, i, base))
    })
    insertAll()
  } finally {
    store.close()
  }
}

function taskRecord(newTaskRecord, i, base) {
  const id = randomUUID()
  const created = new Date(base + i * 60_000)
  const started = new Date(created.getTime() + 2_000)
  const completed = new Date(started.getTime() + 90_000 + (i % 17) * 1_000)
  const failed = i % 10 === 9
  const kind = i % 3 === 0 ? 'branch' : 'none'
  return newTaskRecord({
    id,
    name: `bench task ${i + 1}`,
    state: failed ? 'failed' : 'completed',
    plan: `Bench task number ${i + 1}: change a file, run the tests, and commit the result.\n`.repeat(3),
    repoSource: '/srv/repos/example',
    repoPath: '/srv/repos/example',
    baseBranch: 'main',
    branch: `makima/${id.slice(0, 8)}`,
    worktreePath: `/tmp/makima-bench/worktrees/${id.slice(0, 8)}`,
    baseSha: 'a'.repeat(40),
    completionActionKind: kind,
    completionAction: kind === 'none' ? null : {action: kind, ok: !failed, error: failed ? 'task failed' : null, url: null},
    exitCode: failed ? 1 : 0,
    error: failed ? 'claude exited with code 1' : null,
    sessionId: randomUUID(),
    createdAt: created.toISOString(),
    startedAt: started.toISOString(),
    completedAt: completed.toISOString(),
    updatedAt: completed.toISOString(),
  })
}
