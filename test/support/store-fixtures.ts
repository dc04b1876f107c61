// Store fixtures for the unit tests: database files in temp dirs (removed after each test),
// task records, task ids.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterEach} from 'vitest'

import type {TaskRecord} from '../../src/lib/store/task-record.js'

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

export function record(id: string, patch: Partial<TaskRecord> = {}): TaskRecord {
  const now = new Date().toISOString()
  return {
    id,
    shortId: id.slice(0, 8),
    name: `task ${id.slice(0, 4)}`,
    state: 'pending',
    plan: 'do it',
    origin: 'cli',
    repoSource: null,
    repoPath: null,
    baseBranch: null,
    targetBranch: null,
    targetRepo: null,
    branch: null,
    worktreePath: null,
    baseSha: null,
    parentTaskId: null,
    isOrchestrator: false,
    isSupervisor: false,
    autonomous: false,
    contractId: null,
    continueFromTaskId: null,
    copyFiles: null,
    completionActionKind: 'none',
    completionAction: null,
    pid: null,
    runnerPid: null,
    runnerStart: null,
    exitCode: null,
    error: null,
    failureKind: null,
    sessionId: null,
    taskPort: null,
    skipSetup: false,
    limits: null,
    queueSeq: null,
    rateLimitedUntil: null,
    resumeAfterLimit: false,
    needsRecovery: false,
    createdAt: now,
    startedAt: null,
    completedAt: null,
    updatedAt: now,
    ...patch,
  }
}

/** A task id from a hex prefix: id('0000000a') */
export const id = (prefix: string) => `${prefix.padEnd(8, '0')}-0000-4000-8000-000000000000`
