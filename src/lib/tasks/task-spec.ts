import {randomUUID} from 'node:crypto'
import path from 'node:path'

import type {Config} from '../config/types.js'
import {expandHome} from '../config/load.js'
import {MakimaError} from '../errors.js'
import {defaultBranch, resolveCommit, slugify, taskBranchName, validateBranchName} from '../git/refs.js'
import {resolveLocalRepo} from '../git/worktrees.js'
import type {CompletionActionKind, TaskRecord} from '../store/task-record.js'
import type {TaskStore} from '../store/task-store.js'

/** What a caller asks for: CLI flags or a daemon spawnTask command. */
export interface TaskSpec {
  id?: string
  name?: string
  plan: string
  /** local path, URL or new://name; absent = a temp directory */
  repo?: string | null
  baseBranch?: string | null
  targetBranch?: string | null
  targetRepo?: string | null
  completionAction?: CompletionActionKind
  parentTaskId?: string | null
  isOrchestrator?: boolean
  isSupervisor?: boolean
  autonomous?: boolean
  contractId?: string | null
  continueFromTaskId?: string | null
  copyFiles?: string[] | null
  origin?: 'cli' | 'daemon'
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export function defaultTaskName(plan: string): string {
  const first = plan.trim().split('\n')[0].trim()
  return first.length > 60 ? `${first.slice(0, 57)}...` : first
}

/**
 * Validate a spec and resolve everything that can be resolved before anything is recorded: the
 * repository (exists, is a git repository), the base branch (exists), the parent task. Bad input
 * is an INVALID_INPUT naming the value; nothing has been written when it throws.
 */
export async function resolveTaskSpec(spec: TaskSpec, config: Config, tasks: TaskStore): Promise<TaskRecord> {
  const plan = spec.plan?.trim() ?? ''
  if (plan.length === 0) throw new MakimaError('INVALID_INPUT', 'the plan is empty: say what the task should do')
  const id = (spec.id ?? randomUUID()).toLowerCase()
  if (!UUID.test(id)) throw new MakimaError('INVALID_INPUT', `invalid task id "${spec.id}": expected a UUID`)
  const name = spec.name?.trim() || defaultTaskName(plan)
  const shortId = id.slice(0, 8)

  let repoPath: string | null = null
  let baseBranch: string | null = null
  let branch: string | null = null
  if (spec.repo) {
    repoPath = await resolveRepository(spec.repo, config)
    if (spec.baseBranch) {
      await validateBranchName(spec.baseBranch, 'base branch')
      if (!(await resolveCommit(repoPath, spec.baseBranch))) {
        throw new MakimaError('INVALID_INPUT', `base branch "${spec.baseBranch}" does not exist in ${repoPath}`)
      }
      baseBranch = spec.baseBranch
    } else {
      baseBranch = (await defaultBranch(repoPath)) ?? null
      if (!(await resolveCommit(repoPath, baseBranch ?? 'HEAD'))) {
        throw new MakimaError('INVALID_INPUT', `repository ${repoPath} has no commits on ${baseBranch ?? 'HEAD'} yet: commit something first`)
      }
    }
    branch = taskBranchName(shortId, name)
  } else if (spec.baseBranch) {
    throw new MakimaError('INVALID_INPUT', `--base-branch "${spec.baseBranch}" needs --repo`)
  }
  if (spec.targetBranch) await validateBranchName(spec.targetBranch, 'target branch')

  const parentTaskId = spec.parentTaskId ? tasks.resolve(spec.parentTaskId).id : null
  const now = new Date().toISOString()
  return {
    id,
    shortId,
    name,
    state: 'pending',
    plan,
    origin: spec.origin ?? 'cli',
    repoSource: spec.repo ?? null,
    repoPath,
    baseBranch,
    targetBranch: spec.targetBranch ?? null,
    targetRepo: spec.targetRepo ?? null,
    branch,
    worktreePath: null,
    baseSha: null,
    parentTaskId,
    isOrchestrator: spec.isOrchestrator ?? false,
    isSupervisor: spec.isSupervisor ?? false,
    autonomous: spec.autonomous ?? false,
    contractId: spec.contractId ?? null,
    continueFromTaskId: spec.continueFromTaskId ?? null,
    copyFiles: spec.copyFiles ?? null,
    completionActionKind: spec.completionAction ?? 'none',
    completionAction: null,
    pid: null,
    runnerPid: null,
    runnerStart: null,
    exitCode: null,
    error: null,
    sessionId: null,
    needsRecovery: false,
    createdAt: now,
    startedAt: null,
    completedAt: null,
    updatedAt: now,
  }
}

/** Where a task's worktree lives: <worktree.baseDir>/<shortId>-<name slug>, or temp/<id> without a repo. */
export function worktreePathFor(task: TaskRecord, config: Config): string {
  if (!task.repoPath) return path.join(config.home, 'temp', task.id)
  return path.join(config.worktree.baseDir, `${task.shortId}-${slugify(task.name)}`)
}

const URL_FORM = /^(https?:\/\/|ssh:\/\/|file:\/\/|git@[^:]+:)/

async function resolveRepository(source: string, _config: Config): Promise<string> {
  if (source.startsWith('new://') || URL_FORM.test(source)) {
    throw new MakimaError('INVALID_INPUT', `repository "${source}": remote URLs and new:// are not supported yet; give a local path`)
  }
  return resolveLocalRepo(expandHome(source))
}
