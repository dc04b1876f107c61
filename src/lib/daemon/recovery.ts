import {existsSync, readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {listWorktrees, type ListedWorktree} from '../git/worktree-list.js'
import {worktreeHealthy} from '../git/worktrees.js'
import type {Store} from '../store/store.js'
import {ACTIVE_STATES, isActive, type TaskRecord} from '../store/task-record.js'
import {MakimaError} from '../errors.js'
import {environValue, isSameProcessAlive, listProcesses, processStartToken} from '../os/process-table.js'
import {immediate} from '../store/database.js'
import {findTaskProcesses, signalAll, TASK_MARKER} from '../os/task-processes.js'
import type {OutgoingMessage} from './event-sink.js'

/**
 * Start-up recovery works on every orphaned task at once (design.md "Processes"; protocol.md
 * taskRecoveryDetected): one pass over the process table for all of them, and one
 * `git worktree list` per repository for their worktrees' health, instead of a /proc scan and a
 * git process per task. 50 orphans must be reported well within a second.
 */

/**
 * Start-up recovery (design.md "Processes"): every daemon task the store lists as active whose
 * runner is gone, or that a CLI flagged for recovery, has what is left of its processes ended, is
 * marked interrupted (or unflagged) and gets a taskRecoveryDetected report with the health of its
 * worktree; the server decides whether to respawn it. Returns the reports, one per task, for the
 * daemon to send. `runnerPids`: runners of other tasks and this process (never signalled).
 */
export async function recoverOrphanedTasks(store: Store, runnerPids: () => ReadonlySet<number>): Promise<OutgoingMessage[]> {
  const orphans = store.tasks.list({all: true}).filter((t) => t.origin === 'daemon' && (t.needsRecovery || (isActive(t.state) && !(t.runnerPid && isSameProcessAlive(t.runnerPid, t.runnerStart)))))
  if (orphans.length === 0) return []
  // one pass over the process table and one git call per repository for all of them
  const processes = findProcessesOfTasks(orphans, runnerPids())
  for (const pids of processes.values()) signalAll(pids, 'SIGKILL')
  const intact = await worktreesIntact(orphans)
  const now = new Date().toISOString()
  return orphans.map((task) => {
    const previousState = isActive(task.state) ? task.state : task.startedAt ? 'running' : 'initializing'
    if (isActive(task.state)) {
      store.tasks.transition(task.id, ACTIVE_STATES, 'interrupted', {
        error: `the daemon stopped while the task was ${task.state}`,
        pid: null,
        completedAt: now,
        needsRecovery: false,
      })
    } else {
      store.tasks.update(task.id, {needsRecovery: false})
    }
    const ok = intact.get(task.id) === true
    return {
      type: 'taskRecoveryDetected',
      taskId: task.id,
      body: {taskId: task.id, previousState, worktreeIntact: ok, worktreePath: task.worktreePath ?? undefined, needsPatch: !ok},
    }
  })
}

/**
 * Every live process of each task: those whose environment carries MAKIMA_TASK_ID=<id>, with
 * their descendants, and the descendants of the task's recorded claude pid when that process
 * carries the marker itself (after a crash the pid may belong to an unrelated program by now).
 * `exclude` (runners, this process) and their subtrees are never included.
 */
export function findProcessesOfTasks(tasks: readonly {id: string; pid: number | null}[], exclude: ReadonlySet<number>): Map<string, number[]> {
  const procs = listProcesses()
  if (procs.length === 0) return new Map(tasks.map((t) => [t.id, findTaskProcesses(t.id, t.pid, exclude)])) // no /proc
  const skip = new Set([...exclude, process.pid])
  const alive = new Set(procs.filter((p) => p.state !== 'Z').map((p) => p.pid))
  const children = new Map<number, number[]>()
  for (const p of procs) {
    if (!children.has(p.ppid)) children.set(p.ppid, [])
    children.get(p.ppid)!.push(p.pid)
  }
  const found = new Map(tasks.map((t) => [t.id, new Set<number>()]))
  const walk = (set: Set<number>, pid: number) => {
    if (skip.has(pid) || set.has(pid) || !alive.has(pid)) return
    set.add(pid)
    for (const child of children.get(pid) ?? []) walk(set, child)
  }
  for (const p of procs) {
    if (!alive.has(p.pid) || skip.has(p.pid)) continue
    const id = environValue(p.pid, TASK_MARKER)
    const set = id === undefined ? undefined : found.get(id)
    if (set) walk(set, p.pid)
  }
  for (const t of tasks) {
    const set = found.get(t.id)!
    if (t.pid && set.has(t.pid)) walk(set, t.pid) // claude itself carries the marker: its whole subtree
  }
  return new Map([...found].map(([id, set]) => [id, [...set]]))
}

/** The worktrees of a repository by path (one `git worktree list`), or undefined when git cannot list them. */
async function worktreesByPath(repo: string): Promise<Map<string, ListedWorktree> | undefined> {
  const listed = await listWorktrees(repo, {timeoutMs: 30_000}).catch(() => undefined)
  return listed && new Map(listed.map((w) => [w.path, w]))
}

/** The worktree's `.git` file names an existing git dir with a HEAD (what `git worktree add` makes). */
function linkedGitDirPresent(worktree: string): boolean {
  try {
    const dotGit = path.join(worktree, '.git')
    if (!statSync(dotGit).isFile()) return false
    const m = readFileSync(dotGit, 'utf8').match(/^gitdir: (.+)$/m)
    if (!m) return false
    const gitDir = path.resolve(worktree, m[1].trim())
    return existsSync(path.join(gitDir, 'HEAD'))
  } catch {
    return false
  }
}

/**
 * Is each task's worktree intact (exists, a valid git dir, HEAD resolves)? Worktrees of one
 * repository are checked with one `git worktree list`; anything that check cannot vouch for is
 * asked of git directly (worktreeHealthy), so the answer is never more optimistic than git's.
 */
export async function worktreesIntact(tasks: readonly TaskRecord[]): Promise<Map<string, boolean>> {
  const result = new Map<string, boolean>()
  const byRepo = new Map<string, TaskRecord[]>()
  for (const task of tasks) {
    if (!task.worktreePath || !existsSync(task.worktreePath)) {
      result.set(task.id, false)
      continue
    }
    if (!task.repoPath || !existsSync(task.repoPath)) continue
    if (!byRepo.has(task.repoPath)) byRepo.set(task.repoPath, [])
    byRepo.get(task.repoPath)!.push(task)
  }
  await Promise.all(
    [...byRepo].map(async ([repo, repoTasks]) => {
      const listed = await worktreesByPath(repo)
      if (!listed) return
      for (const task of repoTasks) {
        const entry = listed.get(task.worktreePath!) ?? listed.get(path.resolve(task.worktreePath!))
        if (entry && !entry.prunable && /^[0-9a-f]{40,64}$/.test(entry.head) && !/^0+$/.test(entry.head) && linkedGitDirPresent(task.worktreePath!)) {
          result.set(task.id, true)
        }
      }
    }),
  )
  await Promise.all(tasks.filter((t) => !result.has(t.id)).map(async (t) => result.set(t.id, await worktreeHealthy(t.worktreePath).catch(() => false))))
  return result
}

/**
 * Claim this MAKIMA_HOME for this daemon process: one daemon per database (two would share one
 * outbox and one daemon id). A claim by a process that is gone (or a reused pid) is taken over.
 */
export function claimDaemonHome(store: Store, dbPath: string): void {
  immediate(store.db, () => {
    const previous = JSON.parse(store.getMeta('daemon.process') ?? 'null') as {pid: number; start: string | null} | null
    if (previous && previous.pid !== process.pid && isSameProcessAlive(previous.pid, previous.start)) {
      throw new MakimaError('INVALID_STATE', `another makima daemon (pid ${previous.pid}) is running on ${dbPath}; stop it first`)
    }
    store.setMeta('daemon.process', JSON.stringify({pid: process.pid, start: processStartToken(process.pid)}))
    store.setMeta('daemon.pid', String(process.pid))
  })
}
