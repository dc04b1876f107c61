import {cleanEnvironment} from '../../claude/task-env.js'
import type {TaskRecord} from '../../store/task-record.js'
import type {TaskHost} from '../host.js'

/** what the refill needs of the TaskManager's options */
export interface AfterRunOptions {
  poolRefill?: (repoPath: string, base: string) => void
  runnerEntry?: {execPath: string; script: string}
  env: Record<string, string | undefined>
}

/**
 * What a task's end sets off in the process that ran it (TaskManager.run; CLI runners and the
 * daemon alike): the disk budget of ended worktrees (history.maxWorktreeBytes,
 * workspace/disk-policy.ts) and the refill of the repository's warm pool (worktree.warmPool).
 * Failures are never the task's: they are noted or dropped.
 */
export async function afterRun(manager: TaskHost, ended: TaskRecord, options: AfterRunOptions): Promise<void> {
  if (manager.config.history.maxWorktreeBytes > 0) {
    const {enforceWorktreeBudget} = await import('./disk-policy.js')
    for (const pruned of await enforceWorktreeBudget(manager, ended.id).catch(() => [])) manager.progress(ended.id, pruned.message)
  }
  await refillPool(manager, ended, options).catch(() => undefined)
}

/**
 * worktree.warmPool: refill the pool of the task's repository in the background when it is
 * short (a spawn may have taken one), at the task's base branch. Called when a run ends, not
 * when the worktree is taken: a refill is a whole checkout, which beside the task just started
 * took its share of the 2 CPUs of the bench machine (and, on its disk, the kernel's inode
 * allocation): a pooled task of 1.4-1.8 s took 3-3.8 s when its refill ran beside it.
 */
async function refillPool(manager: TaskHost, task: TaskRecord, options: AfterRunOptions): Promise<void> {
  if (!task.repoPath || !(manager.config.worktree.warmPool > 0)) return
  const [{poolLocation, startDetachedRefill}, {poolSize}] = await Promise.all([import('./pool.js'), import('../../git/worktree-pool.js')])
  if (poolSize(poolLocation(manager.config).root, task.repoPath) >= manager.config.worktree.warmPool) return
  const base = task.baseBranch ?? 'HEAD'
  if (options.poolRefill) return options.poolRefill(task.repoPath, base)
  if (options.runnerEntry) startDetachedRefill(options.runnerEntry, manager.config.home, task.repoPath, base, cleanEnvironment(options.env))
}
