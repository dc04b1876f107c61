import {rmSync} from 'node:fs'
import path from 'node:path'
import {gzipSync} from 'node:zlib'

import {git, gitText} from './git-runner.js'

export interface Snapshot {
  commitSha: string
  ref: string
  /** gzip of `git diff --binary <baseSha> <snapshot>` (working tree, index and untracked files) */
  patch: Buffer
  filesCount: number
}

export function snapshotRef(taskId: string, number: number): string {
  return `refs/makima/checkpoints/${taskId}/${number}`
}

/**
 * Record the worktree as it is (tracked changes and untracked files, ignored files excluded) as a
 * commit on the side ref refs/makima/checkpoints/<taskId>/<n>, built with a temporary index:
 * HEAD, the branch and the worktree's own index never move. Returns undefined when nothing
 * differs from HEAD.
 */
export async function createSnapshot(worktreePath: string, taskId: string, number: number, baseSha: string, message: string): Promise<Snapshot | undefined> {
  const gitDir = path.resolve(worktreePath, await gitText(['rev-parse', '--git-dir'], {cwd: worktreePath}))
  const indexFile = path.join(gitDir, `makima-snapshot-${process.pid}-${Date.now()}.index`)
  const env = {GIT_INDEX_FILE: indexFile}
  try {
    await git(['read-tree', 'HEAD'], {cwd: worktreePath, env})
    await git(['add', '--all', '--', '.'], {cwd: worktreePath, env})
    const tree = await gitText(['write-tree'], {cwd: worktreePath, env})
    const headTree = await gitText(['rev-parse', 'HEAD^{tree}'], {cwd: worktreePath})
    if (tree === headTree) return undefined
    const commitSha = await gitText(['commit-tree', tree, '-p', 'HEAD', '-m', message], {cwd: worktreePath})
    const ref = snapshotRef(taskId, number)
    await git(['update-ref', ref, commitSha], {cwd: worktreePath})
    const diff = await git(['diff', '--binary', '--full-index', baseSha, commitSha], {cwd: worktreePath, binary: true})
    const names = await gitText(['diff', '--name-only', baseSha, commitSha], {cwd: worktreePath})
    return {commitSha, ref, patch: gzipSync(diff.stdout), filesCount: names ? names.split('\n').length : 0}
  } finally {
    rmSync(indexFile, {force: true})
  }
}

/** Does the worktree have uncommitted or untracked (not ignored) changes? */
export async function isDirty(worktreePath: string): Promise<boolean> {
  const status = await gitText(['status', '--porcelain', '--untracked-files=all'], {cwd: worktreePath})
  return status.length > 0
}
