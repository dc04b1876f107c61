import {cpSync, existsSync, mkdirSync} from 'node:fs'
import path from 'node:path'

import type {Config} from '../../config/types.js'
import {MakimaError} from '../../errors.js'
import {inheritGitConfig} from '../../git/identity.js'
import {applyPatch, workingTreePatch} from '../../git/patches.js'
import {binaryPatch} from '../../git/snapshot.js'
import {validateBranchName} from '../../git/ref-format.js'
import {resolveCommit} from '../../git/refs.js'
import {ensureWorktree, worktreeHead} from '../../git/worktrees.js'
import {confinedPath} from '../../paths.js'
import type {Store} from '../../store/store.js'
import type {TaskPatch, TaskRecord} from '../../store/task-record.js'
import {copySourcePath, worktreePathFor} from '../spec.js'
import {prepareWorktreeEnvironment} from './environment.js'
import {spawnPool} from './pool.js'
import {HookCommandError} from './setup-command.js'

/**
 * The label of the snapshot cleanup takes of uncommitted work (tasks/workspace/cleanup.ts), which
 * continue-from looks for. Defined here so that making a workspace does not load the cleanup code.
 */
export const FINAL_SNAPSHOT_LABEL = 'final snapshot before cleanup'

export interface WorkspaceContext {
  config: Config
  store: Store
  /** the environment the task's processes inherit (cleaned before use): the setup command's */
  env: Record<string, string | undefined>
  progress: (message: string) => void
}

/**
 * Make the directory a task works in: a git worktree on the task branch at the base commit (or,
 * with continueFromTaskId, at the source task's HEAD plus its uncommitted changes applied as a
 * patch), or a temp directory for a task without a repository. Commits there get an identity
 * (inherited, else makima's). Then the --files of the parent's worktree are copied in. Returns
 * what to record on the task.
 */
async function setUpWorkspace(task: TaskRecord, ctx: WorkspaceContext): Promise<TaskPatch> {
  const worktreePath = worktreePathFor(task, ctx.config)
  if (!task.repoPath) {
    mkdirSync(worktreePath, {recursive: true, mode: 0o700})
    copyParentFiles(task, worktreePath, ctx)
    await prepareWorktreeEnvironment(task, worktreePath, ctx)
    ctx.progress(`Working directory ready at ${worktreePath} (no repository)`)
    return {worktreePath}
  }
  validateBranchName(task.branch!, 'task branch')
  const locksDir = path.join(ctx.config.home, 'locks')
  let made: MadeWorktree
  if (task.continueFromTaskId) {
    made = await continueFrom(task, worktreePath, locksDir, ctx)
  } else {
    ctx.progress(`Creating worktree for ${task.repoPath} (${task.baseBranch ?? 'HEAD'})`)
    made = await createTaskWorktree(task, task.baseBranch ?? 'HEAD', worktreePath, locksDir, ctx)
    await inheritGitConfig(worktreePath, task.repoPath)
  }
  copyParentFiles(task, worktreePath, ctx)
  await prepareWorktreeEnvironment(task, worktreePath, ctx)
  const pooled = made.pooled ? ', taken from the warm pool' : ''
  ctx.progress(`Worktree ready at ${worktreePath} (branch ${task.branch}, base ${made.baseSha.slice(0, 8)}${pooled})`)
  return {worktreePath, baseSha: made.baseSha}
}

interface MadeWorktree {
  baseSha: string
  /** a ready worktree of the warm pool was taken (worktree.warmPool) */
  pooled: boolean
}

/** The task's worktree on its new branch at `baseRef` (from the warm pool when it has one). */
async function createTaskWorktree(task: TaskRecord, baseRef: string, worktreePath: string, locksDir: string, ctx: WorkspaceContext): Promise<MadeWorktree> {
  const missingStart = () => new MakimaError('INVALID_INPUT', `base branch "${baseRef}" does not exist in ${task.repoPath}`)
  const pool = spawnPool(ctx.config)
  const made = await ensureWorktree({repoPath: task.repoPath!, worktreePath, locksDir, startAt: baseRef, branch: {name: task.branch!, mode: 'new'}, missingStart, pool})
  return {baseSha: made.headSha, pooled: made.pooled}
}

/**
 * setUpWorkspace for a task about to run; when it fails, `fail` ends the task with the reason,
 * and with the worktree when one was made before the failing step (the patch, --files), so
 * `task cleanup` finds it and removes it with the branch.
 */
export async function setUpWorkspaceOrFail(task: TaskRecord, ctx: WorkspaceContext, fail: (patch: TaskPatch) => void): Promise<TaskPatch> {
  try {
    return await setUpWorkspace(task, ctx)
  } catch (error) {
    const made = worktreePathFor(task, ctx.config)
    const message = error instanceof Error ? error.message : String(error)
    const reason = error instanceof HookCommandError ? message : `setting up the worktree failed: ${message}`
    fail({...(existsSync(made) ? {worktreePath: made} : {}), error: reason})
    throw error
  }
}

/**
 * A worktree at the source task's HEAD (its worktree's HEAD, else its branch tip) on the new
 * task branch, with the source's uncommitted changes (tracked and untracked, not ignored)
 * applied as a patch: proportional to the change, never a copy of the tree; commits there get an
 * identity as in setUpWorkspace. The source worktree is only read. Returns the commit the
 * worktree was created from.
 */
async function continueFrom(task: TaskRecord, worktreePath: string, locksDir: string, ctx: WorkspaceContext): Promise<MadeWorktree> {
  const source = ctx.store.tasks.require(task.continueFromTaskId!)
  const liveHead = await worktreeHead(source.worktreePath)
  const live = liveHead !== undefined
  const head = liveHead ?? (source.branch && (await resolveCommit(task.repoPath!, source.branch)))
  if (!head) throw new MakimaError('INVALID_STATE', `task ${source.shortId} has neither a worktree nor its branch any more; nothing to continue from`)
  // The patch is taken against the sha read above, so work the source commits meanwhile is in it too.
  // It is taken while the new worktree is checked out: both read the whole tree, neither needs the other.
  ctx.progress(`Creating worktree for ${task.repoPath} at task ${source.shortId}'s HEAD ${head.slice(0, 8)}`)
  const [patchResult, worktreeResult] = await Promise.allSettled([
    live ? workingTreePatch(source.worktreePath!, head) : finalSnapshotPatch(source, head, task.repoPath!, ctx),
    createTaskWorktree(task, head, worktreePath, locksDir, ctx),
  ])
  if (worktreeResult.status === 'rejected') throw worktreeResult.reason
  if (patchResult.status === 'rejected') throw patchResult.reason
  const patch = patchResult.value
  const made = worktreeResult.value
  // The identity (config) and the patch (files) are independent: both at once, both waited for.
  const settled = await Promise.allSettled([applyPatch(worktreePath, patch), inheritGitConfig(worktreePath, task.repoPath!)])
  for (const result of settled) if (result.status === 'rejected') throw result.reason
  if (patch.length > 0) ctx.progress(`Applied task ${source.shortId}'s uncommitted changes (${patch.length} bytes of patch)`)
  return made
}

/**
 * The uncommitted work of a cleaned-up task: the snapshot cleanup took of it, as a patch onto
 * `head` (its branch tip), when that snapshot was taken on top of that very commit and its side
 * ref still exists. Otherwise nothing (the branch moved on since, or there was nothing to keep).
 */
async function finalSnapshotPatch(source: TaskRecord, head: string, repoPath: string, ctx: WorkspaceContext): Promise<Buffer> {
  const last = ctx.store.checkpoints.latest(source.id, 'snapshot')
  if (!last || last.message !== FINAL_SNAPSHOT_LABEL || !last.ref) return Buffer.alloc(0)
  const commit = await resolveCommit(repoPath, last.ref)
  if (!commit || (await resolveCommit(repoPath, `${commit}^`)) !== head) return Buffer.alloc(0)
  ctx.progress(`Task ${source.shortId}'s worktree was cleaned up: taking its uncommitted work from ${last.ref}`)
  return binaryPatch(repoPath, head, commit)
}

/**
 * Copy the task's --files from its parent's worktree into the same relative paths here. Both
 * ends are checked again (the parent may have changed since the task was created): the source
 * must stay inside the parent's worktree, the destination inside this one. Symbolic links inside
 * a copied directory are copied as links, never followed.
 */
function copyParentFiles(task: TaskRecord, worktreePath: string, ctx: WorkspaceContext): void {
  if (!task.copyFiles || task.copyFiles.length === 0) return
  const parent = task.parentTaskId ? ctx.store.tasks.get(task.parentTaskId) : undefined
  if (!parent?.worktreePath) throw new MakimaError('INVALID_STATE', `task ${task.shortId} has --files but its parent task has no worktree to copy them from`)
  for (const file of task.copyFiles) {
    const from = copySourcePath(parent.worktreePath, file)
    const to = confinedPath(worktreePath, file, '--files destination')
    mkdirSync(path.dirname(to), {recursive: true})
    cpSync(from, to, {recursive: true, force: true, dereference: false, verbatimSymlinks: true})
  }
  ctx.progress(`Copied ${task.copyFiles.join(', ')} from task ${parent.shortId}'s worktree`)
}
