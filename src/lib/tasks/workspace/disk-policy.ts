import {existsSync} from 'node:fs'

import {diskUsage, formatBytes} from '../../os/disk-usage.js'
import {ENDED_STATES} from '../../store/task-record.js'
import type {TaskManager} from '../manager.js'
import {cleanupTask} from './cleanup.js'

export interface BudgetPrune {
  taskId: string
  bytes: number
  message: string
}

/**
 * history.maxWorktreeBytes (0 = off): when the worktrees of ended tasks together pass it, the
 * oldest ended ones are removed as `task cleanup` removes them (uncommitted work kept as a final
 * snapshot first; branches stay) until the total is within it. Runs when a task ends (CLI runners
 * and the daemon alike); `keep` is that task, whose worktree is never taken: it is the result the
 * user is about to look at. Running and paused tasks are never touched (only ended ones count).
 */
export async function enforceWorktreeBudget(manager: TaskManager, keep: string): Promise<BudgetPrune[]> {
  const limit = manager.config.history.maxWorktreeBytes
  if (!(limit > 0)) return []
  const ended = manager.store.tasks
    .list({states: ENDED_STATES})
    .filter((t) => t.worktreePath && existsSync(t.worktreePath))
    .map((t) => ({task: t, bytes: diskUsage(t.worktreePath!) ?? 0}))
  let total = ended.reduce((sum, e) => sum + e.bytes, 0)
  if (total <= limit) return []
  const oldestFirst = ended.filter((e) => e.task.id !== keep).sort((a, b) => (a.task.completedAt ?? '').localeCompare(b.task.completedAt ?? ''))
  const pruned: BudgetPrune[] = []
  for (const {task, bytes} of oldestFirst) {
    if (total <= limit) break
    try {
      const result = await cleanupTask(manager, task.id, {})
      if (!result.worktreeRemoved) continue
      total -= bytes
      const kept = result.snapshot ? `; its uncommitted work is snapshot ${result.snapshot.ref} (restore: ${result.snapshot.restore})` : ''
      pruned.push({taskId: task.id, bytes, message: `history.maxWorktreeBytes (${formatBytes(limit)}): removed the worktree of ended task ${task.shortId} (${formatBytes(bytes)})${kept}`})
    } catch {
      // a worktree that cannot be removed now (e.g. its task was just resumed) stays
    }
  }
  return pruned
}
