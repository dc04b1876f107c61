import {retryWhileBusy} from './busy.js'
import type {Db} from './database.js'

export interface MergeSkip {
  taskId: string
  subtaskId: string
  reason: string
  createdAt: string
}

/**
 * What the merge family keeps in the store: subtasks deliberately not merged into their parent
 * (merge_skips, migration 3; rows go with either task when it is purged), and the lookup of the
 * tasks that own given branches.
 */
export class MergeStore {
  constructor(private readonly db: Db) {}

  /** Record (or update the reason of) a skipped subtask. */
  addSkip(taskId: string, subtaskId: string, reason: string): MergeSkip {
    const createdAt = new Date().toISOString()
    const upsert = this.db.prepare(
      `INSERT INTO merge_skips (task_id, subtask_id, reason, created_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(task_id, subtask_id) DO UPDATE SET reason = excluded.reason, created_at = excluded.created_at`,
    )
    retryWhileBusy(this.db, () => upsert.run(taskId, subtaskId, reason, createdAt))
    return {taskId, subtaskId, reason, createdAt}
  }

  /** The skipped subtasks of a task, by subtask id. */
  skips(taskId: string): Map<string, MergeSkip> {
    const rows = this.db.prepare('SELECT task_id, subtask_id, reason, created_at FROM merge_skips WHERE task_id = ? ORDER BY created_at').all(taskId) as {
      task_id: string
      subtask_id: string
      reason: string
      created_at: string
    }[]
    return new Map(rows.map((r) => [r.subtask_id, {taskId: r.task_id, subtaskId: r.subtask_id, reason: r.reason, createdAt: r.created_at}]))
  }

  /**
   * The id of the task that owns each branch name (tasks.branch), preferring a task of the given
   * repository when several match. Branches no task owns are absent from the map.
   */
  taskIdsByBranch(branches: readonly string[], repoPath: string | null): Map<string, string> {
    const result = new Map<string, string>()
    if (branches.length === 0) return result
    const stmt = this.db.prepare('SELECT id, repo_path FROM tasks WHERE branch = ? ORDER BY created_at DESC')
    for (const branch of branches) {
      const rows = stmt.all(branch) as {id: string; repo_path: string | null}[]
      const row = rows.find((r) => r.repo_path === repoPath) ?? rows[0]
      if (row) result.set(branch, row.id)
    }
    return result
  }
}
