import {existsSync} from 'node:fs'
import path from 'node:path'

import type {Config} from '../../config/types.js'
import {MakimaError} from '../../errors.js'
import {validateBranchName} from '../../git/ref-format.js'
import {commitAll} from '../../git/commits.js'
import {operationInProgress} from '../../git/merge.js'
import {currentBranch, defaultBranch} from '../../git/refs.js'
import {mergeIntoTarget} from '../../git/remote-merge.js'
import {cleanEnvironment} from '../../claude/task-env.js'
import {createPullRequest, type PullRequest} from '../../git/remote-pr.js'
import {localPathOfUrl, push, remoteUrl, type DeliveryTarget} from '../../git/remote.js'
import {resolveTargetRepo, sameRepository} from '../../git/repo-dirs.js'
import type {TaskRecord} from '../../store/task-record.js'
import {redactCredentials} from '../../redact.js'

/**
 * Delivering a task's work (docs/cli.md "Completion actions"): the target of a task, the commit
 * of what is left uncommitted in its worktree, and push / merge / pull request. Used by the
 * completion action (tasks/delivery/actions.ts) and by the daemon's repository commands (tasks/workspace/repo-ops.ts).
 */
export interface DeliveryContext {
  config: Config
  /** environment gh runs with (PATH finds it); makima's secrets are removed first */
  env: Record<string, string | undefined>
  progress: (message: string) => void
}

export interface TargetOverrides {
  targetRepo?: string | null
  targetBranch?: string | null
}

/** A task that has a repository and a branch (a task without one has nothing to deliver). */
export function requireRepository(task: TaskRecord): {repo: string; branch: string} {
  if (!task.repoPath || !task.branch) {
    throw new MakimaError('INVALID_STATE', `task ${task.shortId} has no repository (it ran in a temporary directory): there is no branch to push, merge or open a pull request for`)
  }
  return {repo: task.repoPath, branch: task.branch}
}

/**
 * The target of a task: `--target-repo` (a path) / `--target-branch`; by default the source
 * repository — its `origin` remote when it has one — and the base branch.
 */
export async function resolveDeliveryTarget(task: TaskRecord, overrides: TargetOverrides = {}): Promise<DeliveryTarget> {
  const {repo, branch: taskBranch} = requireRepository(task)
  const explicit = overrides.targetRepo ?? task.targetRepo
  let target: Omit<DeliveryTarget, 'branch'>
  if (explicit) {
    const targetPath = await resolveTargetRepo(explicit)
    target = {destination: targetPath, localPath: targetPath, sameRepo: await sameRepository(targetPath, repo), label: targetPath}
  } else {
    const url = await remoteUrl(repo, 'origin')
    if (url) {
      const localPath = localPathOfUrl(url, repo) ?? null
      const sameRepo = localPath !== null && (await sameRepository(localPath, repo).catch(() => false))
      target = {destination: 'origin', localPath, sameRepo, label: `origin (${redactCredentials(url)})`}
    } else {
      target = {destination: repo, localPath: repo, sameRepo: true, label: repo}
    }
  }
  const branch = overrides.targetBranch ?? task.targetBranch ?? task.baseBranch ?? (await defaultBranch(target.localPath ?? repo))
  if (!branch) throw new MakimaError('INVALID_INPUT', `task ${task.shortId} has no target branch and ${target.label} has no default branch: give --target-branch`)
  validateBranchName(branch, 'target branch')
  if (target.sameRepo && branch === taskBranch) {
    throw new MakimaError('INVALID_INPUT', `target branch "${branch}" is the task's own branch: choose another --target-branch`)
  }
  return {...target, branch}
}

/**
 * Commit the worktree's uncommitted work (tracked and untracked, not ignored) on the task branch
 * as "makima: work of task <shortId>". Refuses when the worktree is not on the task branch or is
 * in the middle of a merge (committing then would record conflict markers). Returns the commit's
 * sha, or undefined when there was nothing to commit or the worktree is gone (the branch is
 * delivered as it is).
 */
export async function commitTaskWork(task: TaskRecord, ctx: Pick<DeliveryContext, 'progress'>): Promise<string | undefined> {
  const {branch} = requireRepository(task)
  const worktree = task.worktreePath
  if (!worktree || !existsSync(worktree)) {
    ctx.progress(`The worktree of task ${task.shortId} is gone: delivering what is committed on ${branch}`)
    return undefined
  }
  const current = await currentBranch(worktree)
  if (current !== branch) {
    throw new MakimaError(
      'FAILED',
      `the worktree ${worktree} is ${current ? `on branch ${current}` : 'on a detached HEAD'}, not on the task branch ${branch}: check ${branch} out there again, then retry`,
    )
  }
  const operation = await operationInProgress(worktree)
  if (operation) throw new MakimaError('FAILED', `a ${operation} is in progress in ${worktree}: finish or abort it first`)
  const sha = await commitAll(worktree, `makima: work of task ${task.shortId}`, {unsigned: true})
  if (sha) ctx.progress(`Committed the uncommitted work of task ${task.shortId} on ${branch} (${sha.slice(0, 8)})`)
  return sha
}

/** Push the task branch to the target (`git push <remote-or-path> refs/heads/<b>:refs/heads/<b>`). Returns what happened. */
export async function pushTaskBranch(task: TaskRecord, target: DeliveryTarget, ctx: Pick<DeliveryContext, 'progress'>): Promise<string> {
  const {repo, branch} = requireRepository(task)
  validateBranchName(branch, 'task branch')
  if (target.sameRepo) return `Branch ${branch} is in ${target.label} already (the task's own repository; it has no origin remote to push to)`
  ctx.progress(`Pushing ${branch} to ${target.label}`)
  await push(repo, target.destination, `refs/heads/${branch}`, `refs/heads/${branch}`)
  return `Pushed branch ${branch} to ${target.label}`
}

export interface MergeDelivery {
  ok: boolean
  message: string
  commitSha?: string
}

/** Merge the task branch into the target branch (no-ff merge commit, or one squashed commit); see mergeIntoTarget. */
export async function mergeTaskBranch(task: TaskRecord, target: DeliveryTarget, squash: boolean, ctx: DeliveryContext): Promise<MergeDelivery> {
  const {repo, branch} = requireRepository(task)
  validateBranchName(branch, 'task branch')
  ctx.progress(`${squash ? 'Squash-merging' : 'Merging'} ${branch} into ${target.branch} of ${target.label}`)
  const message = squash
    ? `${task.name}\n\nSquashed work of makima task ${task.shortId} (branch ${branch}).`
    : `Merge branch '${branch}' into ${target.branch}\n\nmakima task ${task.shortId}: ${task.name}`
  const outcome = await mergeIntoTarget({
    repo,
    branch,
    target,
    squash,
    message,
    scratchRef: `refs/makima/delivery/${task.id}`,
    locksDir: path.join(ctx.config.home, 'locks'),
  })
  switch (outcome.status) {
    case 'merged':
      return {ok: true, commitSha: outcome.commitSha, message: `Merged ${branch} into ${target.branch} of ${target.label} (${squash ? 'squashed, ' : ''}commit ${outcome.commitSha.slice(0, 8)})`}
    case 'up-to-date':
      return {ok: true, commitSha: outcome.commitSha, message: `Nothing to merge: ${target.branch} of ${target.label} already contains ${branch}`}
    case 'missing-target':
      return {ok: false, message: `target branch ${target.branch} does not exist in ${target.label}`}
    case 'diverged': {
      const where = task.worktreePath && existsSync(task.worktreePath) ? ` (in ${task.worktreePath}: git pull ${target.destination} ${target.branch})` : ''
      return {
        ok: false,
        message: `target branch ${target.branch} has moved on since the task started: merge it into the task first${where}, then retry with \`makima task complete-action ${task.shortId}\``,
      }
    }
  }
}

/** Push the task branch, then open a pull request with gh (see createPullRequest). */
export async function openPullRequest(task: TaskRecord, target: DeliveryTarget, title: string, body: string, ctx: DeliveryContext): Promise<PullRequest> {
  const {repo, branch} = requireRepository(task)
  ctx.progress(await pushTaskBranch(task, target, ctx))
  ctx.progress(`Opening a pull request: ${branch} -> ${target.branch}`)
  const cwd = task.worktreePath && existsSync(task.worktreePath) ? task.worktreePath : repo
  return createPullRequest({cwd, head: branch, base: target.branch, title, body, env: cleanEnvironment(ctx.env)})
}

/** The body of a task's pull request: its plan and Claude's final summary. */
export function pullRequestBody(task: TaskRecord, summary: string | undefined): string {
  const parts = [`## Plan\n\n${task.plan.trim()}`]
  if (summary?.trim()) parts.push(`## Summary\n\n${summary.trim()}`)
  parts.push(`---\nOpened by makima for task \`${task.shortId}\` (branch \`${task.branch}\`).`)
  return parts.join('\n\n')
}
