import {existsSync} from 'node:fs'

import {MakimaError} from '../../errors.js'
import {branchMergedInto, commitsAhead, type MergedHow} from '../../git/merged.js'
import {isDirty} from '../../git/snapshot.js'
import {ENDED_STATES, type TaskRecord, type TaskState} from '../../store/task-record.js'
import type {TaskManager} from '../manager.js'
import {cleanupTask, type CleanupResult} from './cleanup.js'

export interface PruneOptions {
  /** only tasks whose branch is merged into their base branch (reachable, same patches, or same tree) */
  merged?: boolean
  /** only tasks that ended longer ago than this many milliseconds */
  olderThanMs?: number
  /** only tasks in these (ended) states; default all ended states */
  states?: TaskState[]
  deleteBranch?: boolean
  dryRun?: boolean
  /**
   * remove every worktree of the warm pool (worktree.warmPool; broken pooled ones always go); with
   * none of the task filters (merged, olderThanMs, states, deleteBranch) no task is touched
   */
  pool?: boolean
}

export interface PruneEntry {
  taskId: string
  shortId: string
  state: TaskState
  worktreePath: string | null
  branch: string | null
  /** why it matched: its state, age, and how its branch is merged */
  reasons: string[]
  /** uncommitted work a final snapshot keeps before the worktree goes */
  uncommitted: boolean
  /** commits of its branch the base lacks (kept on the branch) */
  unmergedCommits: number
  result?: CleanupResult
}

export interface PruneResult {
  dryRun: boolean
  pruned: PruneEntry[]
  /** pooled worktrees removed (or that would be): broken ones, every one with `pool` */
  pool: {repoPath: string; dir: string}[]
}

const DURATION = /^(\d+)\s*(s|m|h|d|w)$/
const UNIT_MS: Record<string, number> = {s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000}

/** `30m`, `12h`, `7d`, `2w` as milliseconds; INVALID_INPUT naming the value otherwise. */
export function parseDuration(value: string, what = '--older-than'): number {
  const m = DURATION.exec(value.trim())
  if (!m) throw new MakimaError('INVALID_INPUT', `${what} "${value}" is not a duration: use a number and a unit, e.g. 30m, 12h, 7d, 2w`)
  return Number(m[1]) * UNIT_MS[m[2]]
}

/** The states of --state (comma-separated): ended states only, INVALID_INPUT naming a bad one. */
export function parseEndedStates(value: string): TaskState[] {
  const states = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  for (const state of states) {
    if (!(ENDED_STATES as readonly string[]).includes(state)) {
      throw new MakimaError('INVALID_INPUT', `--state "${state}" is not an ended state: use ${ENDED_STATES.join(', ')} (running and paused tasks are never pruned)`)
    }
  }
  if (states.length === 0) throw new MakimaError('INVALID_INPUT', '--state is empty')
  return states as TaskState[]
}

/**
 * Remove the worktrees (with deleteBranch the branches) of ended repository tasks that match all
 * the filters, as `task cleanup` does: uncommitted work is first kept as a final snapshot. A
 * branch is deleted only when it is merged (by any of MergedHow), so unpushed commits stay on it.
 * dryRun: only says what would go and why. Broken worktrees of the warm pool always go, and with
 * `pool` every pooled worktree (`pool` alone prunes only the pool).
 */
export async function pruneTasks(manager: TaskManager, options: PruneOptions): Promise<PruneResult> {
  manager.reap()
  const states = options.states ?? [...ENDED_STATES]
  const now = Date.now()
  const pruned: PruneEntry[] = []
  const poolOnly = options.pool && !options.merged && options.olderThanMs === undefined && options.states === undefined && !options.deleteBranch
  for (const task of poolOnly ? [] : manager.store.tasks.list({all: true})) {
    if (!states.includes(task.state) || !task.repoPath) continue
    const hasWorktree = Boolean(task.worktreePath && existsSync(task.worktreePath))
    if (!hasWorktree && !(options.deleteBranch && task.branch)) continue
    const reasons: string[] = [task.state]
    const ended = Date.parse(task.completedAt ?? task.updatedAt)
    if (options.olderThanMs !== undefined) {
      if (!(now - ended > options.olderThanMs)) continue
      reasons.push(`ended ${Math.floor((now - ended) / 60_000)} min ago`)
    }
    const how = await mergedHow(task)
    if (options.merged) {
      if (!how) continue
      reasons.push(`branch merged into ${task.baseBranch} (${how})`)
    }
    if (!hasWorktree && !how) continue // only a branch would go, and it is not merged
    const entry: PruneEntry = {
      taskId: task.id,
      shortId: task.shortId,
      state: task.state,
      worktreePath: hasWorktree ? task.worktreePath : null,
      branch: task.branch,
      reasons,
      uncommitted: hasWorktree && (await isDirty(task.worktreePath!)),
      unmergedCommits: task.branch && task.baseBranch && !how ? await commitsAhead(task.repoPath, task.branch, task.baseBranch) : 0,
    }
    if (!options.dryRun) entry.result = await cleanupTask(manager, task.id, {deleteBranch: options.deleteBranch && how !== undefined, force: how !== undefined})
    pruned.push(entry)
  }
  const {prunePools} = await import('./pool.js')
  const pool = await prunePools(manager.config, {all: options.pool, dryRun: options.dryRun})
  return {dryRun: options.dryRun === true, pruned, pool}
}

async function mergedHow(task: TaskRecord): Promise<MergedHow | undefined> {
  if (!task.repoPath || !task.branch || !task.baseBranch) return undefined
  return branchMergedInto(task.repoPath, task.branch, task.baseBranch)
}
