import {parseStreamLine} from '../claude/stream-event.js'
import type {Store} from '../store/store.js'
import {ACTIVE_STATES, type TaskRecord, type TaskState} from '../store/task-record.js'
import type {ProcessUsageSampler} from '../os/process-usage.js'
import {rateLimitLine} from './rate-limit-format.js'
import {TranscriptRenderer} from './transcript.js'

/** One task as `makima top` shows it (also its `--json` row). */
export interface TopRow {
  id: string
  shortId: string
  name: string
  state: TaskState
  createdAt: string
  /** live processes of the task (claude and everything it started) */
  processes: number
  /** CPU% over the last interval summed over the task's processes (100 = one core); null when not measured yet */
  cpuPercent: number | null
  /** resident memory of the task's processes, bytes; null when unknown */
  rssBytes: number | null
  /** cost of the task's runs of Claude Code so far, US dollars (usage-store.ts); null before its first run */
  costUsd: number | null
  /** the cost is an estimate at API prices (a subscription login) */
  costEstimated: boolean
  /** assistant turns so far, all runs together */
  turns: number
  /** the last line of the task's transcript (what `task logs` would print last), or null */
  lastLine: string | null
  /** "held: rate limited until 15:00" (queued during the machine's hold) or "usage limit: resets at ..." (rate-limit-format.ts) */
  rateLimit: string | null
}

/** How many stored lines before the last one are rendered to find the last transcript line. */
const TAIL_WINDOW = 40

/**
 * The last line `task logs` would print for a task: its recent stdout (stream-json) and makima
 * progress lines rendered by the transcript renderer, the last non-blank line of that.
 */
export function lastTranscriptLine(store: Store, taskId: string): string | null {
  const last = Math.max(store.output.lastLine(taskId, 'stdout')?.seq ?? 0, store.output.lastLine(taskId, 'makima')?.seq ?? 0)
  if (last === 0) return null
  const renderer = new TranscriptRenderer({color: false, width: 1000})
  let found: string | null = null
  for (const line of store.output.read(taskId, Math.max(0, last - TAIL_WINDOW), TAIL_WINDOW)) {
    if (line.stream === 'stderr') continue
    const rendered = line.stream === 'makima' ? [renderer.renderProgress(line.line)] : renderer.render(parseStreamLine(line.line))
    for (const text of rendered) if (text.trim() !== '') found = text.trim()
  }
  return found
}

/** The tasks to show (active ones, or all) with their usage and last line. */
export function collectTopRows(store: Store, sampler: ProcessUsageSampler, options: {all?: boolean} = {}): TopRow[] {
  const tasks = store.tasks.list({all: options.all})
  const active = tasks.filter((t) => ACTIVE_STATES.includes(t.state))
  const runners = new Set(store.tasks.list({states: ACTIVE_STATES}).flatMap((t) => (t.runnerPid ? [t.runnerPid] : [])))
  const usage = sampler.sample(
    active.map((t) => ({id: t.id, pid: t.pid})),
    runners,
  )
  const spent = store.usage.totalsByTask(tasks.map((t) => t.id))
  const hold = store.rateLimit.current()
  const heldUntil = hold ? new Date(hold.untilMs).toISOString() : null
  return tasks.map((task: TaskRecord) => {
    const u = usage.get(task.id)
    const s = spent.get(task.id)
    return {
      id: task.id,
      shortId: task.shortId,
      name: task.name,
      state: task.state,
      createdAt: task.createdAt,
      processes: u?.processes ?? 0,
      cpuPercent: u ? u.cpuPercent : null,
      rssBytes: u ? u.rssBytes : null,
      costUsd: s ? s.costUsd : null,
      costEstimated: s?.costEstimated ?? false,
      turns: s?.turns ?? 0,
      lastLine: lastTranscriptLine(store, task.id),
      rateLimit: rateLimitLine(task.state === 'queued' ? {...task, rateLimitedUntil: heldUntil} : task),
    }
  })
}
