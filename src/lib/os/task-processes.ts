import {environHas, isPidAlive, listProcesses} from './process-table.js'

export const TASK_MARKER = 'MAKIMA_TASK_ID'

/**
 * Every process of a task (docs/design.md "Processes"): claude's descendants by ppid plus every
 * process whose environment carries MAKIMA_TASK_ID=<taskId> — Claude Code runs each Bash tool
 * command in a session of its own, and those outlive claude. `exclude` holds the pids of runners
 * (whose subtrees belong to other tasks) and the caller itself. claude comes first in the list.
 */
export function findTaskProcesses(taskId: string, claudePid: number | null, exclude: ReadonlySet<number> = new Set()): number[] {
  const procs = listProcesses()
  const skip = new Set([...exclude, process.pid])
  const children = new Map<number, number[]>()
  for (const p of procs) {
    if (!children.has(p.ppid)) children.set(p.ppid, [])
    children.get(p.ppid)!.push(p.pid)
  }
  const found = new Set<number>()
  const alive = new Set(procs.filter((p) => p.state !== 'Z').map((p) => p.pid))
  const walk = (pid: number) => {
    if (skip.has(pid) || found.has(pid) || !alive.has(pid)) return
    found.add(pid)
    for (const child of children.get(pid) ?? []) walk(child)
  }
  if (claudePid && alive.has(claudePid)) walk(claudePid)
  for (const p of procs) {
    if (!found.has(p.pid) && !skip.has(p.pid) && alive.has(p.pid) && environHas(p.pid, TASK_MARKER, taskId)) walk(p.pid)
  }
  const list = [...found]
  if (claudePid && found.has(claudePid)) return [claudePid, ...list.filter((p) => p !== claudePid)]
  if (procs.length === 0 && claudePid && isPidAlive(claudePid)) return [claudePid] // no /proc: claude alone
  return list
}

export function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal)
    } catch {
      // gone already
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Stop every process of the task (claude first so it forks nothing new), sweeping until stable. */
export function pauseTaskProcesses(taskId: string, claudePid: number | null, exclude?: ReadonlySet<number>): number[] {
  const stopped = new Set<number>()
  for (let round = 0; round < 5; round++) {
    const fresh = findTaskProcesses(taskId, claudePid, exclude).filter((p) => !stopped.has(p))
    if (fresh.length === 0) break
    signalAll(fresh, 'SIGSTOP')
    for (const p of fresh) stopped.add(p)
  }
  return [...stopped]
}

export function resumeTaskProcesses(taskId: string, claudePid: number | null, exclude?: ReadonlySet<number>): number[] {
  const pids = findTaskProcesses(taskId, claudePid, exclude)
  // Children first, claude last, so claude sees its tools running when it wakes.
  signalAll([...pids].reverse(), 'SIGCONT')
  return pids
}

/**
 * End every process of the task: SIGSTOP all (nothing forks meanwhile), SIGTERM all, SIGCONT so
 * they can handle it, SIGKILL what is left after `graceMs`, and sweep again until none is left.
 */
export async function terminateTaskProcesses(taskId: string, claudePid: number | null, graceMs: number, exclude?: ReadonlySet<number>): Promise<void> {
  let pids = pauseTaskProcesses(taskId, claudePid, exclude)
  signalAll(pids, 'SIGTERM')
  signalAll(pids, 'SIGCONT')
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline) {
    pids = findTaskProcesses(taskId, claudePid, exclude)
    if (pids.length === 0) return
    await sleep(Math.min(100, Math.max(10, deadline - Date.now())))
  }
  for (let round = 0; round < 50; round++) {
    pids = findTaskProcesses(taskId, claudePid, exclude)
    if (pids.length === 0) return
    signalAll(pids, 'SIGKILL')
    await sleep(20)
  }
}
