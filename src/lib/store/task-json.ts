import type {Store} from './store.js'
import {toTaskJson, type TaskJson, type TaskRecord} from './task-record.js'
import {NO_USAGE} from './usage-store.js'

/** The task object of shared/cli.md with its usage from the runs table. */
export function taskJson(store: Store, task: TaskRecord): TaskJson {
  return toTaskJson(heldUntil(store, task), store.usage.totals(task.id), task.state === 'queued' ? store.tasks.queuePosition(task) : null)
}

/** A queued task waits out the machine's rate-limit hold (rate-limit-store.ts) while there is one: its rateLimitedUntil says until when. */
function heldUntil(store: Store, task: TaskRecord): TaskRecord {
  if (task.state !== 'queued') return task
  const hold = store.rateLimit.current()
  return {...task, rateLimitedUntil: hold ? new Date(hold.untilMs).toISOString() : null}
}

/** Task objects of many tasks, their usage read in one query (task list). */
export function taskJsonList(store: Store, tasks: readonly TaskRecord[]): TaskJson[] {
  const usage = store.usage.totalsByTask(tasks.map((t) => t.id))
  const queued = tasks.some((t) => t.state === 'queued') ? store.tasks.queue() : []
  const position = (task: TaskRecord) => (task.state === 'queued' ? queued.findIndex((q) => q.id === task.id) + 1 || null : null)
  return tasks.map((task) => toTaskJson(heldUntil(store, task), usage.get(task.id) ?? {...NO_USAGE, models: []}, position(task)))
}
