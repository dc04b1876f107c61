import {gzipSync} from 'node:zlib'

import {changedPathCount} from './changes.js'
import {commitTree} from './commits.js'
import {git, gitText} from './git-runner.js'
import {updateRef} from './ref-updates.js'
import {resolveTree} from './refs.js'
import {withTempIndex} from './temp-index.js'

export interface Snapshot {
  commitSha: string
  ref: string
  /** the snapshot commit's tree */
  tree: string
  /** gzip of `git diff --binary <baseSha> <snapshot>` (working tree, index and untracked files) */
  patch: Buffer
  filesCount: number
}

export function snapshotRef(taskId: string, number: number): string {
  return `refs/makima/checkpoints/${taskId}/${number}`
}

/**
 * The tree of the worktree as it is (tracked changes and untracked files, ignored files
 * excluded), written from a temporary index (withTempIndex): the worktree's index, HEAD and
 * branch never move.
 */
export async function writeWorktreeTree(worktreePath: string): Promise<string> {
  return withTempIndex(worktreePath, (env) => gitText(['write-tree'], {cwd: worktreePath, env}))
}

/**
 * Record the worktree as it is (see writeWorktreeTree; or `tree` when the caller wrote it already)
 * as a commit on the side ref refs/makima/checkpoints/<taskId>/<n> whose parent is HEAD: HEAD, the
 * branch and the worktree's own index never move. Returns undefined when nothing differs from HEAD.
 */
export async function createSnapshot(worktreePath: string, taskId: string, number: number, baseSha: string, message: string, tree?: string): Promise<Snapshot | undefined> {
  tree ??= await writeWorktreeTree(worktreePath)
  if (tree === (await resolveTree(worktreePath, 'HEAD'))) return undefined
  const commitSha = await commitTree(worktreePath, tree, ['HEAD'], message)
  const ref = snapshotRef(taskId, number)
  await updateRef(worktreePath, ref, commitSha)
  const patch = await binaryPatch(worktreePath, baseSha, commitSha)
  return {commitSha, ref, tree, patch: gzipSync(patch), filesCount: await changedPathCount(worktreePath, baseSha, commitSha)}
}

/**
 * `git diff --binary <from> <to>` as a patch `git apply --binary` takes: plumbing (diff-tree), so
 * no user setting (color, prefixes, external diff, textconv, renames) changes its bytes.
 */
export async function binaryPatch(cwd: string, from: string, to: string): Promise<Buffer> {
  const args = ['diff-tree', '-r', '-p', '--binary', '--full-index', '--no-renames', '--no-color', '--no-ext-diff', '--no-textconv', from, to]
  return (await git(args, {cwd, binary: true})).stdout
}

/** Does the worktree have uncommitted or untracked (not ignored) changes? */
export async function isDirty(worktreePath: string): Promise<boolean> {
  const status = await gitText(['status', '--porcelain', '--untracked-files=all'], {cwd: worktreePath})
  return status.length > 0
}
