import {existsSync} from 'node:fs'

import {MakimaError} from '../../errors.js'
import type {Store} from '../../store/store.js'
import type {TaskRecord} from '../../store/task-record.js'
import {takeSnapshot} from '../checkpoints/checkpoints.js'
import {formatDuration, formatUsd, hasLimits, limitReached, mergeLimits, type LimitUsage, type TaskLimits} from './limits.js'
import type {TaskHost} from '../host.js'

/**
 * A task stopped by one of its limits (limits.ts, run-meter.ts): its processes are gone (the run
 * stopped them as an interrupt does); the task becomes `failed` with the limit as its error and
 * failureKind `limit`. The worktree stays, and a snapshot of its work is taken on the side ref
 * (as heartbeat checkpoints are; the daemon sends it as checkpointCreated).
 */
export async function failAtLimit(host: TaskHost, taskId: string, message: string, exitCode: number | null = null): Promise<TaskRecord> {
  const task = host.store.tasks.require(taskId)
  if (task.repoPath && task.worktreePath && existsSync(task.worktreePath)) {
    try {
      const taken = await takeSnapshot(host.store, host.config, task, {message: `makima: ${message} (task ${task.shortId})`, label: 'limit snapshot'})
      if (taken) {
        host.progress(taskId, `Snapshot ${taken.record.number} of the work so far: ${taken.record.ref}`)
        host.onCheckpoint?.(taskId, taken.payload)
      }
    } catch (error) {
      host.progress(taskId, `The work so far could not be snapshotted (the worktree is kept): ${(error as Error).message}`)
    }
  }
  const how = task.origin === 'cli' ? `; to go on, give it new limits: makima task send ${task.shortId} ${raiseHint(task.limits, host.store.usage.totals(taskId), message)} "..."` : ''
  host.progress(taskId, `Stopped: ${message}. The worktree is kept${how}`)
  return host.finish(taskId, 'failed', {exitCode, error: message, failureKind: 'limit'})
}

/** Before a run starts (the first, a resume, an autonomous --continue): a limit already reached fails the task instead. */
export async function failIfLimitReached(host: TaskHost, taskId: string): Promise<TaskRecord | undefined> {
  const task = host.store.tasks.require(taskId)
  if (!task.limits) return undefined
  const reached = limitReached(task.limits, host.store.usage.totals(taskId))
  return reached ? failAtLimit(host, taskId, reached) : undefined
}

/**
 * The limits a follow-up message runs under (`task send`, the daemon's sendMessage). New limits
 * given with it are stored first. A task that ended at a limit, or whose usage has reached one,
 * is resumed only when the limits given leave room: INVALID_STATE (exit 4) says which limit and
 * how to pass new ones. A running task takes new limits from its next result on.
 */
export function limitsForFollowUp(store: Store, task: TaskRecord, given: Partial<TaskLimits> | undefined, ended: boolean): TaskRecord {
  const limits = hasLimits(given) ? mergeLimits(task.limits, given) : task.limits
  if (ended) {
    const used = store.usage.totals(task.id)
    const reached = limitReached(limits, used)
    if (reached || (task.failureKind === 'limit' && !hasLimits(given))) {
      const what = reached ?? task.error ?? 'limit reached'
      const again = hasLimits(given) ? ', and the limits given do not leave room for more' : ''
      throw new MakimaError(
        'INVALID_STATE',
        `task ${task.shortId} stopped at a limit (${what})${again}: resume it with new limits, e.g. makima task send ${task.shortId} ${raiseHint(limits, used, what)} "..."`,
      )
    }
  }
  return hasLimits(given) ? store.tasks.update(task.id, {limits}) : task
}

/** The flag and a value that leaves room past the limit a message names ("--max-cost 2"). */
export function raiseHint(limits: TaskLimits | null, used: LimitUsage, message: string): string {
  if (message.includes('wall time')) {
    const secs = Math.max(limits?.timeoutSecs ?? 0, used.durationMs / 1000)
    return `--timeout ${formatDuration(Math.max(60, Math.ceil((secs * 2) / 60) * 60))}`
  }
  if (message.includes(' turn')) return `--max-turns ${Math.max(limits?.maxTurns ?? 0, used.turns) * 2}`
  const usd = Math.max(limits?.maxCostUsd ?? 0, used.costUsd) * 2
  return `--max-cost ${usd >= 1 ? Math.ceil(usd) : formatUsd(usd).slice(1)}`
}
