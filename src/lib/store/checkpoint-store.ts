import {retryWhileBusy} from './busy.js'
import type {Db} from './database.js'

export interface CheckpointFile {
  action: 'added' | 'modified' | 'deleted' | 'renamed'
  path: string
}

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
  /** files changed by the checkpoint (a commit: against its parent; a snapshot: against HEAD) */
  files?: CheckpointFile[] | null
  linesAdded?: number | null
  linesRemoved?: number | null
  createdAt: string
}

const SELECT = `SELECT task_id AS taskId, number, kind, commit_sha AS commitSha, ref, branch, message, patch, patch_base_sha AS patchBaseSha,
                patch_files_count AS patchFilesCount, files, lines_added AS linesAdded, lines_removed AS linesRemoved, created_at AS createdAt
         FROM checkpoints`

function fromRow(row: Record<string, unknown>): CheckpointRecord {
  return {...(row as unknown as CheckpointRecord), files: typeof row.files === 'string' ? (JSON.parse(row.files) as CheckpointFile[]) : null}
}

/** Checkpoints of tasks: real commits (`makima checkpoint`) and side-ref snapshots with their patch. */
export class CheckpointStore {
  constructor(private readonly db: Db) {}

  /** The next number of a kind: commits and snapshots are numbered 1, 2, … per task, each on its own. */
  nextNumber(taskId: string, kind: CheckpointRecord['kind']): number {
    const row = this.db.prepare('SELECT coalesce(max(number), 0) AS n FROM checkpoints WHERE task_id = ? AND kind = ?').get(taskId, kind) as {n: number}
    return row.n + 1
  }

  insert(cp: CheckpointRecord): void {
    const insert = this.db.prepare(
      `INSERT INTO checkpoints (task_id, number, kind, commit_sha, ref, branch, message, patch, patch_base_sha, patch_files_count, files, lines_added, lines_removed, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    retryWhileBusy(this.db, () =>
      insert.run(
        cp.taskId,
        cp.number,
        cp.kind,
        cp.commitSha,
        cp.ref,
        cp.branch,
        cp.message,
        cp.patch,
        cp.patchBaseSha,
        cp.patchFilesCount,
        cp.files ? JSON.stringify(cp.files) : null,
        cp.linesAdded ?? null,
        cp.linesRemoved ?? null,
        cp.createdAt,
      ),
    )
  }

  get(taskId: string, kind: CheckpointRecord['kind'], number: number): CheckpointRecord | undefined {
    const row = this.db.prepare(`${SELECT} WHERE task_id = ? AND kind = ? AND number = ?`).get(taskId, kind, number) as Record<string, unknown> | undefined
    return row ? fromRow(row) : undefined
  }

  /** The checkpoint of that kind with the highest number, if any. */
  latest(taskId: string, kind: CheckpointRecord['kind']): CheckpointRecord | undefined {
    const row = this.db.prepare(`${SELECT} WHERE task_id = ? AND kind = ? ORDER BY number DESC LIMIT 1`).get(taskId, kind) as Record<string, unknown> | undefined
    return row ? fromRow(row) : undefined
  }

  list(taskId: string): CheckpointRecord[] {
    const rows = this.db.prepare(`${SELECT} WHERE task_id = ? ORDER BY created_at, kind, number`).all(taskId) as Record<string, unknown>[]
    return rows.map(fromRow)
  }
}
