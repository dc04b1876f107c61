import {existsSync, readdirSync, rmSync} from 'node:fs'
import path from 'node:path'

import {MakimaError} from '../../errors.js'
import {deleteBranch} from '../../git/ref-updates.js'
import {branchTip, isAncestor} from '../../git/refs.js'
import {validateBranchName} from '../../git/ref-format.js'
import {isDirty} from '../../git/snapshot.js'
import {removeWorktree} from '../../git/worktrees.js'
import {isActive} from '../../store/task-record.js'
import {takeSnapshot} from '../checkpoints/checkpoints.js'
import type {TaskHost} from '../host.js'
import {runTeardown} from './environment.js'
import {FINAL_SNAPSHOT_LABEL} from './setup.js'

export interface CleanupResult {
  taskId: string
  success: boolean
  message: string
  worktreeRemoved: boolean
  branchDeleted: boolean
  snapshot: {ref: string; commitSha: string; restore: string} | null
  /** the teardown command's failure (the worktree was removed all the same) */
  teardownError?: string
}

/**
 * Remove a task's worktree. Refuses an active task. Uncommitted or untracked work is first kept
 * as a final snapshot (side ref + patch in the store), so nothing is lost. The branch is deleted
 * only when asked and merged into the base branch, or with force.
 */
export async function cleanupTask(manager: TaskHost, idOrPrefix: string, options: {deleteBranch?: boolean; force?: boolean}): Promise<CleanupResult> {
  manager.reap()
  const {store, config} = manager
  const task = store.tasks.resolve(idOrPrefix)
  if (isActive(task.state)) {
    throw new MakimaError('INVALID_STATE', `task ${task.shortId} is ${task.state}; interrupt it (makima task interrupt ${task.shortId}) before cleaning up`)
  }
  const result: CleanupResult = {taskId: task.id, success: true, message: '', worktreeRemoved: false, branchDeleted: false, snapshot: null}
  const wt = task.worktreePath
  if (!task.repoPath) {
    if (wt && existsSync(wt)) {
      if (readdirSync(wt).length > 0 && !options.force) {
        throw new MakimaError('INVALID_STATE', `task ${task.shortId} has files in ${wt} and no repository to keep them in; copy what you need, then run cleanup with --force`)
      }
      rmSync(wt, {recursive: true, force: true})
      result.worktreeRemoved = true
    }
    result.message = result.worktreeRemoved ? `removed ${wt}` : 'nothing to remove'
    return result
  }
  if (wt && existsSync(wt)) {
    if (await isDirty(wt)) {
      const taken = await takeSnapshot(store, config, task, {
        message: `makima: final snapshot of task ${task.shortId} before cleanup`,
        label: FINAL_SNAPSHOT_LABEL,
      })
      if (taken) {
        const {number, ref, commitSha} = taken.record
        const restoreDir = path.join(path.dirname(wt), `${path.basename(wt)}-restored`)
        result.snapshot = {ref: ref!, commitSha: commitSha!, restore: `makima checkpoint restore ${task.shortId} ${number} ${restoreDir}`}
      }
    }
    const teardownError = await runTeardown(task, wt, {config, store, env: manager.env, progress: (m) => manager.progress(task.id, m)})
    if (teardownError) result.teardownError = teardownError
    await removeWorktree(task.repoPath, wt, path.join(config.home, 'locks'))
    result.worktreeRemoved = true
  }
  if (options.deleteBranch && task.branch) {
    validateBranchName(task.branch)
    const merged = task.baseBranch ? await isMerged(task.repoPath, task.branch, task.baseBranch) : false
    if (merged || options.force) {
      await deleteBranch(task.repoPath, task.branch)
      result.branchDeleted = true
    } else {
      result.message = `kept branch ${task.branch}: it is not merged into ${task.baseBranch ?? 'its base'} (use --force to delete it anyway). `
    }
  }
  result.message += result.worktreeRemoved ? `removed worktree ${wt}` : 'the worktree was already gone'
  if (result.snapshot) result.message += `; uncommitted work kept at ${result.snapshot.ref} (restore: ${result.snapshot.restore})`
  if (result.teardownError) result.message += `; ${result.teardownError}`
  return result
}

async function isMerged(repo: string, branch: string, base: string): Promise<boolean> {
  const [tip, baseTip] = await Promise.all([branchTip(repo, branch), branchTip(repo, base)])
  return tip !== undefined && baseTip !== undefined && (await isAncestor(repo, tip, baseTip))
}
