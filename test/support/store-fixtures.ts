// Store fixtures for the unit tests: database files in temp dirs (removed after each test),
// task records, task ids.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach} from 'vitest'

import {newTaskRecord, type TaskRecord} from '../../src/lib/store/task-record.js'

/** A maker of database file paths, each in its own temp dir, removed after each test of the calling file. */
export function tempDbs(): () => string {
  const dirs: string[] = []
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true})
  })
  return () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'makima-store-'))
    dirs.push(dir)
    return path.join(dir, 'makima.db')
  }
}

/** A pending task record (store/task-record.ts newTaskRecord) with a name and plan of its own, then `patch`. */
export function record(id: string, patch: Partial<TaskRecord> = {}): TaskRecord {
  return newTaskRecord({id, name: `task ${id.slice(0, 4)}`, plan: 'do it', ...patch})
}

/** A task id from a hex prefix: id('0000000a') */
export const id = (prefix: string) => `${prefix.padEnd(8, '0')}-0000-4000-8000-000000000000`
