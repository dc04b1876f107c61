import {readFileSync} from 'node:fs'

import {environValue, listProcesses, type ProcStat} from './process-table.js'
import {TASK_MARKER} from './task-processes.js'

/**
 * CPU and memory of each task's processes, read from /proc (Linux): the same set of processes
 * os/task-processes.ts acts on (claude's descendants plus every process carrying the task's
 * MAKIMA_TASK_ID), found in one pass over /proc for all tasks. CPU% is the growth of
 * utime+stime between two samples over the time between them, so the first sample has none.
 * Elsewhere (no /proc) every figure is null.
 */

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat; 100 on every Linux ABI Node runs on. */
const CLOCK_TICKS_PER_SEC = 100
const HAS_PROC = process.platform === 'linux'

export interface TaskProcessRef {
  id: string
  /** claude's pid (null when not running) */
  pid: number | null
}

export interface TaskUsage {
  /** live processes found for the task */
  processes: number
  /** CPU% summed over the processes since the previous sample (100 = one core); null on the first */
  cpuPercent: number | null
  /** resident memory summed over the processes, bytes; null when nothing could be read */
  rssBytes: number | null
}

function rssBytesOf(pid: number): number | undefined {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m)
    return match ? Number(match[1]) * 1024 : 0 // kernel threads have no VmRSS
  } catch {
    return undefined
  }
}

/** Samples tasks' process trees; keep one instance across frames so CPU% has a previous sample. */
export class ProcessUsageSampler {
  /** `${pid}:${startTime}` -> cpu ticks at the previous sample */
  private previous = new Map<string, number>()
  private previousAt?: bigint

  /** `exclude`: pids never counted (runners, whose subtrees hold other tasks; this process is always excluded). */
  sample(tasks: readonly TaskProcessRef[], exclude: ReadonlySet<number> = new Set()): Map<string, TaskUsage> {
    const result = new Map<string, TaskUsage>()
    if (!HAS_PROC) {
      for (const task of tasks) result.set(task.id, {processes: 0, cpuPercent: null, rssBytes: null})
      return result
    }
    const now = process.hrtime.bigint()
    const procs = new Map<number, ProcStat>()
    const children = new Map<number, number[]>()
    for (const info of listProcesses()) {
      if (info.state === 'Z' || info.state === 'X') continue
      procs.set(info.pid, info)
      if (!children.has(info.ppid)) children.set(info.ppid, [])
      children.get(info.ppid)!.push(info.pid)
    }
    const skip = new Set([...exclude, process.pid])
    const claimed = new Set<number>()
    const treeOf = (roots: number[]): number[] => {
      const found: number[] = []
      const walk = (pid: number) => {
        if (skip.has(pid) || claimed.has(pid) || !procs.has(pid)) return
        claimed.add(pid)
        found.push(pid)
        for (const child of children.get(pid) ?? []) walk(child)
      }
      for (const root of roots) walk(root)
      return found
    }
    // Marked processes per task (environment read once per process, only when tasks are asked for).
    const marked = new Map<string, number[]>()
    const wanted = new Set(tasks.map((t) => t.id))
    if (wanted.size > 0) {
      for (const pid of procs.keys()) {
        if (skip.has(pid)) continue
        const marker = environValue(pid, TASK_MARKER)
        if (marker && wanted.has(marker)) {
          if (!marked.has(marker)) marked.set(marker, [])
          marked.get(marker)!.push(pid)
        }
      }
    }
    const elapsedSecs = this.previousAt === undefined ? 0 : Number(now - this.previousAt) / 1e9
    const current = new Map<string, number>()
    for (const task of tasks) {
      const pids = treeOf([...(task.pid ? [task.pid] : []), ...(marked.get(task.id) ?? [])])
      let ticks = 0
      let rss = 0
      let rssKnown = false
      for (const pid of pids) {
        const info = procs.get(pid)!
        const key = `${pid}:${info.startTime}`
        current.set(key, info.cpuTicks)
        // A process new since the previous sample: all its time was spent since then (near enough).
        ticks += info.cpuTicks - (this.previous.get(key) ?? 0)
        const bytes = rssBytesOf(pid)
        if (bytes !== undefined) {
          rss += bytes
          rssKnown = true
        }
      }
      const cpuPercent = elapsedSecs > 0 && pids.length > 0 ? Math.max(0, (ticks / CLOCK_TICKS_PER_SEC / elapsedSecs) * 100) : null
      result.set(task.id, {processes: pids.length, cpuPercent, rssBytes: rssKnown ? rss : null})
    }
    this.previous = current
    this.previousAt = now
    return result
  }
}
