import {existsSync} from 'node:fs'
import {gzipSync} from 'node:zlib'

import type {Config} from '../../config/types.js'
import {MakimaError} from '../../errors.js'
import {changedPathCount, changesBetween, parentOrEmpty, type FileChange} from '../../git/changes.js'
import {commitAll} from '../../git/commits.js'
import {mergeInProgress} from '../../git/merge.js'
import {deleteRefsUnder} from '../../git/ref-updates.js'
import {abbreviate, currentBranch, headCommit} from '../../git/refs.js'
import {binaryPatch, createSnapshot} from '../../git/snapshot.js'
import type {CheckpointRecord} from '../../store/checkpoint-store.js'
import type {Store} from '../../store/store.js'
import type {TaskRecord} from '../../store/task-record.js'

/** The payload of protocol.md's `checkpointCreated` (without `type`). */
export interface CheckpointCreated {
  taskId: string
  success: boolean
  commitSha?: string
  branchName?: string
  checkpointNumber?: number
  filesChanged?: FileChange[]
  linesAdded?: number
  linesRemoved?: number
  error?: string
  message: string
  patchData?: string
  patchBaseSha?: string
  patchFilesCount?: number
}

/**
 * The worktree of a task that has one, or INVALID_STATE saying why there is none (no repository,
 * not started yet, cleaned up, broken).
 */
export function requireWorktree(task: TaskRecord, what: string): string {
  if (!task.repoPath) {
    throw new MakimaError('INVALID_STATE', `task ${task.shortId} has no repository (it works in a plain directory): there is nothing to ${what}`)
  }
  if (!task.worktreePath) {
    throw new MakimaError('INVALID_STATE', `task ${task.shortId} is ${task.state} and has no worktree yet: there is nothing to ${what}`)
  }
  if (!existsSync(task.worktreePath)) {
    throw new MakimaError('INVALID_STATE', `the worktree of task ${task.shortId} (${task.worktreePath}) is gone (cleaned up): there is nothing to ${what}`)
  }
  return task.worktreePath
}

/**
 * `makima checkpoint` / protocol `createCheckpoint`: commit everything in the task's worktree
 * (tracked changes and untracked files, ignored ones excluded) as a real commit on the task
 * branch, numbered per task and recorded in the store. Nothing to commit -> `success: false`.
 * `includePatch` attaches the protocol patch (against the task's baseSha) when it fits the cap.
 */
export async function createCheckpoint(store: Store, config: Config, task: TaskRecord, options: {message?: string; includePatch?: boolean} = {}): Promise<CheckpointCreated> {
  const wt = requireWorktree(task, 'checkpoint')
  const branchName = await currentBranch(wt)
  if (!branchName) throw new MakimaError('INVALID_STATE', `HEAD is detached in the worktree of task ${task.shortId} (${wt}): check out a branch to commit on`)
  if (await mergeInProgress(wt)) {
    throw new MakimaError('INVALID_STATE', `a merge is in progress in the worktree of task ${task.shortId}: finish it (makima merge commit) or abort it (makima merge abort) first`)
  }
  let number = store.checkpoints.nextNumber(task.id, 'commit')
  const message = options.message?.trim() || `makima checkpoint ${number} of task ${task.shortId}`
  const commitSha = await commitAll(wt, message)
  if (!commitSha) {
    const head = await abbreviate(wt, 'HEAD')
    return {taskId: task.id, success: false, message: `nothing to commit: the worktree of task ${task.shortId} has no changes since ${head} on ${branchName}`}
  }
  const changes = await changesBetween(wt, await parentOrEmpty(wt, commitSha), commitSha)
  const record: CheckpointRecord = {
    taskId: task.id,
    number,
    kind: 'commit',
    commitSha,
    ref: `refs/heads/${branchName}`,
    branch: branchName,
    message,
    patch: null,
    patchBaseSha: task.baseSha,
    patchFilesCount: null,
    files: changes.filesChanged,
    linesAdded: changes.linesAdded,
    linesRemoved: changes.linesRemoved,
    createdAt: new Date().toISOString(),
  }
  // Another process may have taken the number meanwhile: the commit is made, take the next one.
  for (let attempt = 0; ; attempt++) {
    try {
      store.checkpoints.insert({...record, number})
      break
    } catch (error) {
      if (attempt >= 5 || !/UNIQUE|PRIMARY KEY/i.test(String((error as Error).message))) throw error
      number = store.checkpoints.nextNumber(task.id, 'commit')
    }
  }
  const payload: CheckpointCreated = {
    taskId: task.id,
    success: true,
    commitSha,
    branchName,
    checkpointNumber: number,
    filesChanged: changes.filesChanged,
    linesAdded: changes.linesAdded,
    linesRemoved: changes.linesRemoved,
    message,
  }
  if (options.includePatch && task.baseSha && config.checkpointPatches.enabled) {
    const patch = gzipSync(await binaryPatch(wt, task.baseSha, commitSha))
    if (patch.length <= config.checkpointPatches.maxPatchSizeBytes) {
      const patchFilesCount = await changedPathCount(wt, task.baseSha, commitSha)
      Object.assign(payload, {patchData: patch.toString('base64'), patchBaseSha: task.baseSha, patchFilesCount})
    }
  }
  return payload
}

export interface SnapshotTaken {
  record: CheckpointRecord
  payload: CheckpointCreated
  /** set when the patch was not stored (too large, or patches disabled) */
  patchNote?: string
}

/**
 * A snapshot of the task's worktree on its side ref (git/snapshot.ts: HEAD, branch and index never
 * move), recorded in the store with its patch against the task's baseSha when patches are enabled
 * and the compressed patch fits checkpointPatches.maxPatchSizeBytes. Undefined when the worktree
 * equals HEAD. `tree`: the worktree's tree when the caller wrote it already.
 */
export async function takeSnapshot(store: Store, config: Config, task: TaskRecord, options: {message: string; label: string; tree?: string}): Promise<SnapshotTaken | undefined> {
  const wt = requireWorktree(task, 'snapshot')
  const baseSha = task.baseSha ?? (await headCommit(wt))
  const number = store.checkpoints.nextNumber(task.id, 'snapshot')
  const snap = await createSnapshot(wt, task.id, number, baseSha, options.message, options.tree)
  if (!snap) return undefined
  const changes = await changesBetween(wt, `${snap.commitSha}^`, snap.commitSha)
  const {enabled, maxPatchSizeBytes} = config.checkpointPatches
  const keepPatch = enabled && snap.patch.length <= maxPatchSizeBytes
  const patchNote = !enabled
    ? undefined
    : keepPatch
      ? undefined
      : `the patch of snapshot ${number} is ${snap.patch.length} bytes compressed, over checkpointPatches.maxPatchSizeBytes (${maxPatchSizeBytes}): stored without its patch (the snapshot itself is at ${snap.ref})`
  const record: CheckpointRecord = {
    taskId: task.id,
    number,
    kind: 'snapshot',
    commitSha: snap.commitSha,
    ref: snap.ref,
    branch: task.branch,
    message: options.label,
    patch: keepPatch ? snap.patch : null,
    patchBaseSha: baseSha,
    patchFilesCount: snap.filesCount,
    files: changes.filesChanged,
    linesAdded: changes.linesAdded,
    linesRemoved: changes.linesRemoved,
    createdAt: new Date().toISOString(),
  }
  store.checkpoints.insert(record)
  const payload: CheckpointCreated = {
    taskId: task.id,
    success: true,
    commitSha: snap.commitSha,
    branchName: task.branch ?? undefined,
    checkpointNumber: number,
    filesChanged: changes.filesChanged,
    linesAdded: changes.linesAdded,
    linesRemoved: changes.linesRemoved,
    message: options.label,
    patchBaseSha: baseSha,
    patchFilesCount: snap.filesCount,
  }
  if (keepPatch) payload.patchData = snap.patch.toString('base64')
  return {record, payload, patchNote}
}

/** One row of `makima checkpoint list`. */
export interface CheckpointListEntry {
  number: number
  kind: CheckpointRecord['kind']
  commitSha: string | null
  ref: string | null
  branch: string | null
  message: string | null
  filesCount: number | null
  linesAdded: number | null
  linesRemoved: number | null
  hasPatch: boolean
  patchBytes: number | null
  patchBaseSha: string | null
  createdAt: string
}

export function listCheckpoints(store: Store, task: TaskRecord): CheckpointListEntry[] {
  return store.checkpoints.list(task.id).map((cp) => ({
    number: cp.number,
    kind: cp.kind,
    commitSha: cp.commitSha,
    ref: cp.ref,
    branch: cp.branch,
    message: cp.message,
    filesCount: cp.files ? cp.files.length : cp.patchFilesCount,
    linesAdded: cp.linesAdded ?? null,
    linesRemoved: cp.linesRemoved ?? null,
    hasPatch: cp.patch !== null,
    patchBytes: cp.patch ? cp.patch.length : null,
    patchBaseSha: cp.patchBaseSha,
    createdAt: cp.createdAt,
  }))
}

/**
 * Delete a task's side refs (refs/makima/checkpoints/<taskId>/*) from its repository, when its
 * history expires. Best effort: a repository that is gone or a ref that cannot be deleted is left.
 */
export async function deleteCheckpointRefs(repoPath: string, taskId: string): Promise<number> {
  if (!/^[0-9a-f-]{36}$/.test(taskId) || !existsSync(repoPath)) return 0
  return deleteRefsUnder(repoPath, `refs/makima/checkpoints/${taskId}/`, {timeoutMs: 15_000})
}
