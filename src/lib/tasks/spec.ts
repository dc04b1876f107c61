import {randomUUID} from 'node:crypto'
import {existsSync, realpathSync} from 'node:fs'
import path from 'node:path'

import type {Config} from '../config/types.js'
import {expandHome} from '../config/load.js'
import {MakimaError} from '../errors.js'
import {validateBranchName} from '../git/ref-format.js'
import {defaultBranch, resolveCommit, slugify, taskBranchName} from '../git/refs.js'
import {resolveRepoSource} from '../git/repo-source.js'
import {worktreeHealthy} from '../git/worktrees.js'
import {confinedPath} from '../paths.js'
import {newTaskRecord, type CompletionActionKind, type TaskRecord} from '../store/task-record.js'
import type {TaskStore} from '../store/task-store.js'
import {validateCompletionSpec} from './delivery/action-spec.js'
import {configLimits, mergeLimits, type TaskLimits} from './limits/limits.js'

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
  /** --no-setup: do not run the worktree's setup command */
  skipSetup?: boolean
  origin?: 'cli' | 'daemon'
  /** limits given with the task; the config's limits.* fill in the rest */
  limits?: Partial<TaskLimits>
  /** resume after a usage limit resets (default limits.resumeAfterLimit) */
  resumeAfterLimit?: boolean
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

export function defaultTaskName(plan: string): string {
  const first = plan.trim().split('\n')[0].trim()
  return first.length > 60 ? `${first.slice(0, 57)}...` : first
}

/**
 * Validate a spec and resolve everything that can be resolved before anything is recorded: the
 * parent task and the --files to copy from its worktree (confined to it), the task continued
 * from, the repository (a path that exists and is a git repository, a URL cloned into the cache,
 * or new://name), the base branch (exists). Bad input is an INVALID_INPUT naming the value; no
 * task is recorded and no worktree made when it throws (a clone or new:// repository may stay).
 */
export async function resolveTaskSpec(spec: TaskSpec, config: Config, tasks: TaskStore): Promise<TaskRecord> {
  const plan = spec.plan?.trim() ?? ''
  if (plan.length === 0) throw new MakimaError('INVALID_INPUT', 'the plan is empty: say what the task should do')
  const id = (spec.id ?? randomUUID()).toLowerCase()
  if (!UUID.test(id)) throw new MakimaError('INVALID_INPUT', `invalid task id "${spec.id}": expected a UUID`)
  const name = spec.name?.trim() || defaultTaskName(plan)
  const shortId = id.slice(0, 8)

  // Cheap checks first: nothing is cloned or created when the files or the tasks named are bad.
  const parent = spec.parentTaskId ? tasks.resolve(spec.parentTaskId) : null
  const copyFiles = validateCopyFiles(spec.copyFiles, parent)
  const source = spec.continueFromTaskId ? await resolveContinueSource(spec.continueFromTaskId, tasks) : null

  let repoPath: string | null = null
  let baseBranch: string | null = null
  let branch: string | null = null
  const repoSource = spec.repo || source?.repoSource || null
  if (source) {
    // Same repository as the source task; the worktree starts at its HEAD (tasks/workspace/setup.ts).
    if (spec.repo && (await resolveRepository(spec.repo, config)) !== source.repoPath) {
      throw new MakimaError('INVALID_INPUT', `--repo "${spec.repo}" is not the repository of task ${source.shortId} (${source.repoPath}) it continues from`)
    }
    if (spec.baseBranch) validateBranchName(spec.baseBranch, 'base branch')
    repoPath = source.repoPath
    baseBranch = spec.baseBranch ?? source.baseBranch
    branch = taskBranchName(shortId, name)
  } else if (spec.repo) {
    repoPath = await resolveRepository(spec.repo, config)
    if (spec.baseBranch) {
      validateBranchName(spec.baseBranch, 'base branch')
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
  if (spec.targetBranch) validateBranchName(spec.targetBranch, 'target branch')
  const {completionActionKind, targetRepo} = await validateCompletionSpec(spec, repoPath)

  const parentTaskId = parent?.id ?? null
  return newTaskRecord({
    id,
    shortId,
    name,
    plan,
    origin: spec.origin ?? 'cli',
    repoSource,
    repoPath,
    baseBranch,
    targetBranch: spec.targetBranch ?? null,
    targetRepo,
    branch,
    parentTaskId,
    isOrchestrator: spec.isOrchestrator ?? false,
    isSupervisor: spec.isSupervisor ?? false,
    autonomous: spec.autonomous ?? false,
    contractId: spec.contractId ?? null,
    continueFromTaskId: source?.id ?? null,
    copyFiles,
    skipSetup: spec.skipSetup ?? false,
    completionActionKind,
    limits: mergeLimits(configLimits(config.limits), spec.limits),
    resumeAfterLimit: spec.resumeAfterLimit ?? config.limits.resumeAfterLimit,
  })
}

/** Where a task's worktree lives: <worktree.baseDir>/<shortId>-<name slug>, or temp/<id> without a repo. */
export function worktreePathFor(task: TaskRecord, config: Config): string {
  if (!task.repoPath) return path.join(config.home, 'temp', task.id)
  return path.join(config.worktree.baseDir, `${task.shortId}-${slugify(task.name)}`)
}

async function resolveRepository(source: string, config: Config): Promise<string> {
  const locksDir = path.join(config.home, 'locks')
  return (await resolveRepoSource(source, {reposDir: config.worktree.reposDir, locksDir, expandHome})).repoPath
}

/**
 * The task a new one continues from (--continue-from): it must have a repository and a worktree
 * or branch there; the new worktree starts at its HEAD with its uncommitted changes (tasks/workspace/setup.ts).
 */
async function resolveContinueSource(idOrPrefix: string, tasks: TaskStore): Promise<TaskRecord> {
  const source = tasks.resolve(idOrPrefix)
  if (!source.repoPath || !source.branch) {
    throw new MakimaError('INVALID_STATE', `task ${source.shortId} has no repository branch to continue from (it worked in a temp directory)`)
  }
  if (!(await worktreeHealthy(source.worktreePath)) && !(await resolveCommit(source.repoPath, source.branch))) {
    throw new MakimaError('INVALID_STATE', `task ${source.shortId} has neither a worktree nor its branch ${source.branch} any more; nothing to continue from`)
  }
  return source
}

/**
 * --files: paths to copy from the parent task's worktree. Each must exist there and stay inside
 * it after resolving `..` and symlinks; `.git` and the whole worktree are refused. Checked here,
 * before anything is recorded; copied (and checked again) in tasks/workspace/setup.ts.
 */
function validateCopyFiles(files: string[] | null | undefined, parent: TaskRecord | null): string[] | null {
  if (!files || files.length === 0) return null
  if (!parent) throw new MakimaError('INVALID_INPUT', `--files ${files.join(',')} needs --parent <task> (the files are copied from its worktree)`)
  if (!parent.worktreePath || !existsSync(parent.worktreePath)) {
    throw new MakimaError('INVALID_STATE', `parent task ${parent.shortId} has no worktree to copy --files from`)
  }
  for (const file of files) copySourcePath(parent.worktreePath, file)
  return files
}

/** The resolved path of one --files entry inside `root` (throws INVALID_INPUT naming it). */
export function copySourcePath(root: string, file: string): string {
  const what = `--files path "${file}"`
  if (file.split(/[/\\]+/).includes('.git')) throw new MakimaError('INVALID_INPUT', `${what} names git's own data (.git)`)
  if (path.isAbsolute(file)) throw new MakimaError('INVALID_INPUT', `${what} must be relative to the parent's worktree`)
  const resolved = confinedPath(root, file, '--files path')
  if (resolved === realpathSync(root)) throw new MakimaError('INVALID_INPUT', `${what} is the whole worktree; name files or directories inside it`)
  if (!existsSync(resolved)) throw new MakimaError('INVALID_INPUT', `${what} does not exist in ${root}`)
  return resolved
}
