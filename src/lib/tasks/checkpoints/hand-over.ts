import {existsSync} from 'node:fs'
import {gunzipSync} from 'node:zlib'

import type {Config} from '../../config/types.js'
import {workingTreePatch} from '../../git/patches.js'
import type {Store} from '../../store/store.js'
import type {TaskRecord} from '../../store/task-record.js'
import {takeSnapshot, type CheckpointCreated} from './checkpoints.js'

export interface HandOver {
  /** the checkpointCreated payload to send, with patchData when the work fits the size limit */
  payload?: CheckpointCreated
  /** what was handed over, for the task's error and the log ("the work so far was sent ...") */
  note: string
}

/**
 * The last snapshot of a task that leaves this machine (a daemon drain): its work against the
 * task's baseSha, exactly as a heartbeat checkpoint takes it (side ref + patch), so the server can
 * start the task again elsewhere at patchBaseSha with the patch applied. Work Claude Code already
 * committed counts too: when the worktree equals HEAD (nothing for a snapshot) but HEAD moved
 * since baseSha, the patch is HEAD's diff against baseSha.
 */
export async function handOverSnapshot(store: Store, config: Config, task: TaskRecord): Promise<HandOver> {
  const worktree = task.worktreePath
  if (!worktree || !existsSync(worktree) || !task.repoPath) return {note: 'it has no worktree, so there was no work to hand over'}
  const taken = await takeSnapshot(store, config, task, {message: `makima: drain snapshot of task ${task.shortId}`, label: 'drain snapshot'})
  if (taken) {
    const files = taken.payload.patchFilesCount ?? 0
    if (taken.payload.patchData) {
      return {
        payload: taken.payload,
        note: `the work so far was sent to the server as checkpoint ${taken.record.number} (a patch of ${files} file${files === 1 ? '' : 's'} against ${taken.payload.patchBaseSha?.slice(0, 12)})`,
      }
    }
    return {payload: taken.payload, note: `the work so far is snapshot ${taken.record.number} (${taken.record.ref}), but no patch was sent: ${taken.patchNote ?? 'checkpoint patches are off'}`}
  }
  if (!task.baseSha) return {note: 'its worktree had no changes to hand over'}
  const patch = await workingTreePatch(worktree, task.baseSha, {gzip: true})
  if (patch.length === 0) return {note: 'its worktree had no changes since its base, so there was no work to hand over'}
  const files = (
    gunzipSync(patch)
      .toString('latin1')
      .match(/^diff --git /gm) ?? []
  ).length
  const {enabled, maxPatchSizeBytes} = config.checkpointPatches
  const payload: CheckpointCreated = {taskId: task.id, success: true, message: 'drain snapshot', branchName: task.branch ?? undefined, patchBaseSha: task.baseSha, patchFilesCount: files}
  if (!enabled) return {payload, note: 'its work is committed on its branch, but checkpoint patches are off, so none was sent'}
  if (patch.length > maxPatchSizeBytes) {
    return {
      payload,
      note: `its patch is ${patch.length} bytes compressed, over checkpointPatches.maxPatchSizeBytes (${maxPatchSizeBytes}), so it was not sent (the work is committed on branch ${task.branch})`,
    }
  }
  payload.patchData = patch.toString('base64')
  return {payload, note: `the work so far (committed on its branch) was sent to the server as a patch of ${files} file${files === 1 ? '' : 's'} against ${task.baseSha.slice(0, 12)}`}
}
