import {closeSync, constants, existsSync, fstatSync, openSync, readdirSync, readSync, rmSync, statSync} from 'node:fs'
import path from 'node:path'

import {MakimaError} from '../../errors.js'
import {gitMessage, isGitError} from '../../git/git-error.js'
import {validateBranchName, validateRevision} from '../../git/ref-format.js'
import {createBranchAt} from '../../git/ref-updates.js'
import {branchTip, currentBranch, resolveCommit} from '../../git/refs.js'
import {cloneWorktreeTo} from '../../git/worktree-clone.js'
import {confinedPath, hasGitComponent, realpathOfExisting, userDirectory} from '../../paths.js'
import {isActive, type TaskRecord} from '../../store/task-record.js'
import {commitTaskWork, mergeTaskBranch, openPullRequest, pullRequestBody, requireRepository, resolveDeliveryTarget, type DeliveryContext} from '../delivery/delivery.js'

/**
 * Repository operations on a task for the daemon's commands (docs/protocol.md): each returns
 * the payload of its protocol answer. Bad input (a branch name git rejects or that starts with
 * "-", a path that escapes its root, a non-empty clone target) throws MakimaError INVALID_INPUT
 * and an unusable task INVALID_STATE before anything changes on disk; an operation that ran and
 * failed is a payload with success: false.
 */

export interface CloneWorktreeResult {
  taskId: string
  success: boolean
  message: string
  targetDir?: string
}

export interface CheckTargetExistsResult {
  taskId: string
  exists: boolean
  targetDir: string
}

export interface BranchCreatedResult {
  taskId: string
  success: boolean
  branchName: string
  message: string
}

export interface MergeToTargetResult {
  taskId: string
  success: boolean
  message: string
  commitSha?: string
  conflicts?: string[]
}

export interface PrCreatedResult {
  taskId: string
  success: boolean
  message: string
  prUrl?: string
  prNumber?: number
}

export interface RepoFileContent {
  filePath: string
  content?: string
  success: boolean
  error?: string
}

/** readRepoFile refuses files larger than this. */
export const MAX_REPO_FILE_BYTES = 5 * 1024 * 1024

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error))

function requireWorktree(task: TaskRecord): string {
  if (!task.worktreePath || !existsSync(task.worktreePath)) {
    throw new MakimaError('INVALID_STATE', `task ${task.shortId} has no worktree (it was cleaned up or never set up)`)
  }
  return task.worktreePath
}

function refuseActive(task: TaskRecord, what: string): void {
  if (isActive(task.state)) throw new MakimaError('INVALID_STATE', `task ${task.shortId} is ${task.state}: wait until it ends before ${what}`)
}

/**
 * Copy a task's worktree to a new directory as an independent repository that keeps the history:
 * `git clone --no-checkout` of the task's repository, the worktree's HEAD pushed into it as the
 * task branch and checked out, then the uncommitted work (tracked changes and untracked files,
 * not ignored ones) applied as a binary patch, left uncommitted as in the worktree. The clone's
 * `origin` is the task's repository. `targetDir` may start with `~`; an existing non-empty
 * directory is refused. A clone that fails half-way is removed.
 */
export async function cloneWorktree(task: TaskRecord, targetDir: string): Promise<CloneWorktreeResult> {
  const {repo, branch} = requireRepository(task)
  const worktree = requireWorktree(task)
  if (typeof targetDir !== 'string' || targetDir.trim().length === 0) throw new MakimaError('INVALID_INPUT', 'target directory is empty')
  const dest = userDirectory(targetDir)
  const existed = existsSync(dest)
  if (existed && (!statSync(dest).isDirectory() || readdirSync(dest).length > 0)) {
    throw new MakimaError('INVALID_INPUT', `target directory ${dest} already exists and is not empty`)
  }
  try {
    const head = (await currentBranch(worktree)) ?? branch
    validateBranchName(head, 'worktree branch')
    const {shortSha, withChanges} = await cloneWorktreeTo(worktree, {repo, branch: head, dest})
    const message = `Cloned the worktree of task ${task.shortId} to ${dest} (branch ${head} at ${shortSha}${withChanges ? ', with its uncommitted changes' : ''})`
    return {taskId: task.id, success: true, message, targetDir: dest}
  } catch (error) {
    if (existed) {
      for (const entry of existsSync(dest) ? readdirSync(dest) : []) rmSync(path.join(dest, entry), {recursive: true, force: true})
    } else {
      rmSync(dest, {recursive: true, force: true})
    }
    return {taskId: task.id, success: false, message: `cloning the worktree of task ${task.shortId} failed: ${messageOf(error)}`}
  }
}

/** Does the directory exist (`~` expanded)? */
export function checkTargetExists(taskId: string, targetDir: string): CheckTargetExistsResult {
  if (typeof targetDir !== 'string' || targetDir.trim().length === 0) throw new MakimaError('INVALID_INPUT', 'target directory is empty')
  const dest = userDirectory(targetDir)
  return {taskId, exists: existsSync(dest), targetDir: dest}
}

/**
 * Create a branch in the task's repository at `fromRef` (default: the worktree's HEAD) without
 * checking it out: the worktree stays on the task branch. An existing branch is not moved.
 */
export async function createBranch(task: TaskRecord, branchName: string, fromRef?: string | null): Promise<BranchCreatedResult> {
  validateBranchName(branchName, 'branch name')
  if (fromRef !== undefined && fromRef !== null) validateRevision(fromRef, 'from ref')
  const {repo} = requireRepository(task)
  const cwd = task.worktreePath && existsSync(task.worktreePath) ? task.worktreePath : repo
  const from = fromRef ?? 'HEAD'
  const sha = await resolveCommit(cwd, from)
  if (!sha) throw new MakimaError('INVALID_INPUT', `from ref "${from}" is not a commit in ${repo}`)
  if (await branchTip(repo, branchName)) {
    return {taskId: task.id, success: false, branchName, message: `branch ${branchName} already exists in ${repo}`}
  }
  try {
    await createBranchAt(repo, branchName, sha, `makima: branch created for task ${task.shortId}`)
  } catch (error) {
    if (!isGitError(error)) throw error
    return {taskId: task.id, success: false, branchName, message: `could not create branch ${branchName}: ${gitMessage(error.stderr)}`}
  }
  return {taskId: task.id, success: true, branchName, message: `Branch ${branchName} created at ${sha.slice(0, 8)} (from ${from})`}
}

/**
 * Merge the task's branch into `targetBranch` (default: the task's target branch, else its base)
 * of the task's target repository, after committing its uncommitted work; a no-ff merge commit,
 * or one squashed commit. Refused when the target has moved on since the task started (see
 * mergeIntoTarget): the target repository is never left half-merged.
 */
export async function mergeTaskToTarget(task: TaskRecord, targetBranch: string | null | undefined, squash: boolean, ctx: DeliveryContext): Promise<MergeToTargetResult> {
  if (targetBranch) validateBranchName(targetBranch, 'target branch')
  requireRepository(task)
  refuseActive(task, 'merging it')
  try {
    const target = await resolveDeliveryTarget(task, {targetBranch})
    await commitTaskWork(task, ctx)
    const merged = await mergeTaskBranch(task, target, squash, ctx)
    return {taskId: task.id, success: merged.ok, message: merged.message, ...(merged.commitSha ? {commitSha: merged.commitSha} : {})}
  } catch (error) {
    return {taskId: task.id, success: false, message: messageOf(error)}
  }
}

/** Commit the task's uncommitted work, push its branch to the target and open a pull request into `baseBranch` with gh. */
export async function createPR(task: TaskRecord, title: string, body: string | null | undefined, baseBranch: string, ctx: DeliveryContext): Promise<PrCreatedResult> {
  if (typeof title !== 'string' || title.trim().length === 0) throw new MakimaError('INVALID_INPUT', 'the pull request title is empty')
  validateBranchName(baseBranch, 'base branch')
  requireRepository(task)
  refuseActive(task, 'opening a pull request')
  try {
    const target = await resolveDeliveryTarget(task, {targetBranch: baseBranch})
    await commitTaskWork(task, ctx)
    const pr = await openPullRequest(task, target, title.trim(), body ?? pullRequestBody(task, undefined), ctx)
    return {
      taskId: task.id,
      success: true,
      message: pr.existing ? 'Pull request already open' : 'Pull request created',
      prUrl: pr.url,
      ...(pr.number === undefined ? {} : {prNumber: pr.number}),
    }
  } catch (error) {
    return {taskId: task.id, success: false, message: messageOf(error)}
  }
}

/**
 * Read a text file of a repository on this machine. `repoPath` may start with `~`; `filePath` is
 * relative to it and must stay inside after resolving `..` and symlinks (else INVALID_INPUT).
 * Nothing inside a `.git` directory is read, whether the repository path or the file path (after
 * symlinks) passes through one: git's files hold remote URLs with credentials, hooks and config.
 * `allowFile` may refuse the resolved file too (the daemon's server-paths.ts: makima's own
 * files). Files over MAX_REPO_FILE_BYTES, non-regular and non-UTF-8 files are answered with
 * success: false.
 */
export async function readRepoFile(repoPath: string, filePath: string, allowFile?: (resolved: string) => void): Promise<RepoFileContent> {
  if (typeof repoPath !== 'string' || repoPath.trim().length === 0) throw new MakimaError('INVALID_INPUT', 'repository path is empty')
  const root = userDirectory(repoPath)
  if (hasGitComponent(realpathOfExisting(root))) throw new MakimaError('INVALID_INPUT', `repository path ${root} is inside a .git directory: git's own files are never read`)
  if (!existsSync(root) || !statSync(root).isDirectory()) return {filePath, success: false, error: `repository path ${root} does not exist or is not a directory`}
  const full = confinedPath(root, filePath, 'file path')
  if (hasGitComponent(full)) throw new MakimaError('INVALID_INPUT', `file path "${filePath}" points into a .git directory (${full}): git's own files are never read`)
  allowFile?.(full)
  let fd: number
  try {
    fd = openSync(full, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') return {filePath, success: false, error: `file ${filePath} does not exist in ${root}`}
    if (code === 'ELOOP') throw new MakimaError('INVALID_INPUT', `file path "${filePath}" is a symbolic link`)
    return {filePath, success: false, error: `cannot read ${filePath}: ${messageOf(error)}`}
  }
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) return {filePath, success: false, error: `${filePath} is not a regular file`}
    if (stat.size > MAX_REPO_FILE_BYTES) return {filePath, success: false, error: `${filePath} is ${stat.size} bytes, over the ${MAX_REPO_FILE_BYTES} bytes limit`}
    const buffer = Buffer.alloc(stat.size)
    let read = 0
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, read)
      if (n === 0) break
      read += n
    }
    let content: string
    try {
      content = new TextDecoder('utf-8', {fatal: true}).decode(buffer.subarray(0, read))
    } catch {
      return {filePath, success: false, error: `${filePath} is not a UTF-8 text file`}
    }
    return {filePath, content, success: true}
  } finally {
    closeSync(fd)
  }
}
