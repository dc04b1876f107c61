import {existsSync} from 'node:fs'

import {allPooledWorktrees, removePooledWorktree} from '../../git/worktree-pool.js'
import {diskUsage, formatBytes} from '../../os/disk-usage.js'
import {ENDED_STATES} from '../../store/task-record.js'
import type {TaskHost} from '../host.js'
import {cleanupTask} from './cleanup.js'
import {poolLocation} from './pool.js'

export interface BudgetPrune {
  /** the ended task whose worktree went; null for a pooled worktree */
  taskId: string | null
  bytes: number
  message: string
}

/**
 * history.maxWorktreeBytes (0 = off): when the worktrees of ended tasks and the warm pool's
 * (worktree.warmPool) together pass it, the oldest ended ones are removed as `task cleanup`
 * removes them (uncommitted work kept as a final snapshot first; branches stay), then, when that
 * is not enough, pooled worktrees (oldest first), until the total is within it. Runs when a task
 * ends (CLI runners and the daemon alike); `keep` is that task, whose worktree is never taken: it
 * is the result the user is about to look at. Running and paused tasks are never touched (only
 * ended ones count).
 */
export async function enforceWorktreeBudget(manager: TaskHost, keep: string): Promise<BudgetPrune[]> {
  const limit = manager.config.history.maxWorktreeBytes
  if (!(limit > 0)) return []
  const ended = endedUsage(manager)
  const pooled = pooledUsage(manager)
  let total = [...ended, ...pooled].reduce((sum, e) => sum + e.bytes, 0)
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
  for (const {repoPath, dir, bytes} of pooled) {
    if (total <= limit) break
    await removePooledWorktree(repoPath, dir, poolLocation(manager.config)).catch(() => undefined)
    total -= bytes
    pruned.push({taskId: null, bytes, message: `history.maxWorktreeBytes (${formatBytes(limit)}): removed the pooled worktree ${dir} (${formatBytes(bytes)}, worktree.warmPool)`})
  }
  return pruned
}

/**
 * May the warm pool make one more worktree within history.maxWorktreeBytes (always, when it is
 * 0)? Counted as for enforceWorktreeBudget, with the new one as large as the newest pooled one.
 */
export function poolWithinBudget(manager: TaskHost): boolean {
  const limit = manager.config.history.maxWorktreeBytes
  if (!(limit > 0)) return true
  const pooled = pooledUsage(manager)
  const total = [...endedUsage(manager), ...pooled].reduce((sum, e) => sum + e.bytes, 0)
  return total + (pooled.at(-1)?.bytes ?? 0) <= limit
}

function endedUsage(manager: TaskHost) {
  return manager.store.tasks
    .list({states: ENDED_STATES})
    .filter((t) => t.worktreePath && existsSync(t.worktreePath))
    .map((t) => ({task: t, bytes: diskUsage(t.worktreePath!) ?? 0}))
}

/** The warm pool's worktrees, oldest first, with their size. */
function pooledUsage(manager: TaskHost) {
  return allPooledWorktrees(poolLocation(manager.config).root).map((e) => ({...e, bytes: diskUsage(e.dir) ?? 0}))
}
