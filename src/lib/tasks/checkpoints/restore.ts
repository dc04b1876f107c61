import {existsSync} from 'node:fs'
import path from 'node:path'

import type {Config} from '../../config/types.js'
import {MakimaError} from '../../errors.js'
import {resolveCommit} from '../../git/refs.js'
import {restoreFromCommit, restoreFromPatch, type Restored} from '../../git/restore.js'
import type {CheckpointRecord} from '../../store/checkpoint-store.js'
import type {Store} from '../../store/store.js'
import type {TaskRecord} from '../../store/task-record.js'

export interface CheckpointRestored extends Restored {
  taskId: string
  number: number
  kind: CheckpointRecord['kind']
  /** how: the stored patch applied on its base, the snapshot's side ref, or the checkpoint commit */
  method: 'patch' | 'ref' | 'commit'
  message: string
}

/**
 * `makima checkpoint restore`: a new worktree of the task's repository in `targetDir` (absolute;
 * must not exist or be empty) holding a checkpoint. A snapshot is restored from its stored patch
 * (a worktree at the patch's base, patch applied: protocol.md "Checkpoint patches"), or from its
 * side ref when no patch was stored; either way the files are byte-identical to the snapshot and
 * show as uncommitted work. A commit checkpoint gives a detached worktree at that commit.
 */
export async function restoreCheckpoint(
  store: Store,
  config: Config,
  task: TaskRecord,
  number: number,
  targetDir: string,
  options: {kind?: CheckpointRecord['kind']; branch?: string} = {},
): Promise<CheckpointRestored> {
  const kind = options.kind ?? 'snapshot'
  if (!task.repoPath) throw new MakimaError('INVALID_STATE', `task ${task.shortId} has no repository: it has no checkpoints to restore`)
  if (!existsSync(task.repoPath)) throw new MakimaError('INVALID_STATE', `the repository of task ${task.shortId} (${task.repoPath}) is gone`)
  const cp = store.checkpoints.get(task.id, kind, number)
  if (!cp) {
    const have = store.checkpoints
      .list(task.id)
      .filter((c) => c.kind === kind)
      .map((c) => c.number)
    const listing = have.length > 0 ? `it has ${kind}s ${have.join(', ')}` : `it has no ${kind}s`
    throw new MakimaError('NOT_FOUND', `task ${task.shortId} has no ${kind} ${number} (${listing}; see makima checkpoint list ${task.shortId})`)
  }
  const target = {repoPath: task.repoPath, targetDir: path.resolve(targetDir), branch: options.branch, locksDir: path.join(config.home, 'locks')}
  const base = {taskId: task.id, number, kind}
  if (kind === 'commit') {
    if (!cp.commitSha) throw new MakimaError('NOT_FOUND', `commit checkpoint ${number} of task ${task.shortId} has no commit recorded`)
    const restored = await restoreFromCommit({...target, commitSha: cp.commitSha})
    return {...base, ...restored, method: 'commit', message: `restored checkpoint commit ${number} of task ${task.shortId} (${cp.commitSha.slice(0, 8)}) into ${restored.targetDir}`}
  }
  if (cp.patch && cp.patchBaseSha) {
    const restored = await restoreFromPatch({...target, baseSha: cp.patchBaseSha, patch: cp.patch})
    return {
      ...base,
      ...restored,
      method: 'patch',
      message: `restored snapshot ${number} of task ${task.shortId} into ${restored.targetDir}: its base ${cp.patchBaseSha.slice(0, 8)} with the snapshot's changes applied as uncommitted work`,
    }
  }
  const sha = cp.ref ? await resolveCommit(task.repoPath, cp.ref) : undefined
  if (!sha) {
    throw new MakimaError('NOT_FOUND', `snapshot ${number} of task ${task.shortId} has no stored patch and its side ref ${cp.ref ?? '(none)'} is gone: it cannot be restored`)
  }
  const restored = await restoreFromCommit({...target, commitSha: sha, uncommitOnto: `${sha}^`})
  return {
    ...base,
    ...restored,
    method: 'ref',
    message: `restored snapshot ${number} of task ${task.shortId} from ${cp.ref} into ${restored.targetDir} (no patch was stored): the snapshot's changes are uncommitted work on ${restored.headSha.slice(0, 8)}`,
  }
}
