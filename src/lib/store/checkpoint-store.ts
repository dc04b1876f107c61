import type {Db} from './database.js'

export interface CheckpointRecord {
  taskId: string
  number: number
  kind: 'commit' | 'snapshot'
  commitSha: string | null
  ref: string | null
  branch: string | null
  message: string | null
  patch: Buffer | null
  patchBaseSha: string | null
  patchFilesCount: number | null
  createdAt: string
}

/** Checkpoints of tasks: real commits (`makima checkpoint`) and side-ref snapshots with their patch. */
export class CheckpointStore {
  constructor(private readonly db: Db) {}

  nextNumber(taskId: string, kind: CheckpointRecord['kind']): number {
    const row = this.db.prepare('SELECT coalesce(max(number), 0) AS n FROM checkpoints WHERE task_id = ? AND kind = ?').get(taskId, kind) as {n: number}
    return row.n + 1
  }

  insert(cp: CheckpointRecord): void {
    this.db
      .prepare(
        `INSERT INTO checkpoints (task_id, number, kind, commit_sha, ref, branch, message, patch, patch_base_sha, patch_files_count, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(cp.taskId, cp.number, cp.kind, cp.commitSha, cp.ref, cp.branch, cp.message, cp.patch, cp.patchBaseSha, cp.patchFilesCount, cp.createdAt)
  }

  list(taskId: string): CheckpointRecord[] {
    const rows = this.db
      .prepare(
        `SELECT task_id AS taskId, number, kind, commit_sha AS commitSha, ref, branch, message, patch, patch_base_sha AS patchBaseSha,
                patch_files_count AS patchFilesCount, created_at AS createdAt
         FROM checkpoints WHERE task_id = ? ORDER BY created_at, number`,
      )
      .all(taskId) as CheckpointRecord[]
    return rows
  }
}
