import {mkdirSync} from 'node:fs'
import path from 'node:path'

import type {Config} from '../config/types.js'
import {validateBranchName} from '../git/refs.js'
import {createWorktree} from '../git/worktrees.js'
import type {Store} from '../store/store.js'
import type {TaskPatch, TaskRecord} from '../store/task-record.js'
import {worktreePathFor} from './task-spec.js'

export interface WorkspaceContext {
  config: Config
  store: Store
  progress: (message: string) => void
}

/**
 * Make the directory a task works in: a git worktree on the task branch at the base commit, or a
 * temp directory for a task without a repository. Returns what to record on the task.
 */
export async function setUpWorkspace(task: TaskRecord, ctx: WorkspaceContext): Promise<TaskPatch> {
  const worktreePath = worktreePathFor(task, ctx.config)
  if (!task.repoPath) {
    mkdirSync(worktreePath, {recursive: true, mode: 0o700})
    ctx.progress(`Working directory ready at ${worktreePath} (no repository)`)
    return {worktreePath}
  }
  ctx.progress(`Creating worktree for ${task.repoPath} (${task.baseBranch ?? 'HEAD'})`)
  await validateBranchName(task.branch!, 'task branch')
  const {baseSha} = await createWorktree({
    repoPath: task.repoPath,
    baseRef: task.baseBranch ?? 'HEAD',
    branch: task.branch!,
    worktreePath,
    locksDir: path.join(ctx.config.home, 'locks'),
  })
  ctx.progress(`Worktree ready at ${worktreePath} (branch ${task.branch}, base ${baseSha.slice(0, 8)})`)
  return {worktreePath, baseSha}
}
