import {existsSync} from 'node:fs'
import {setTimeout as sleep} from 'node:timers/promises'

import {MakimaError} from '../errors.js'
import {ENDED_STATES, isActive, isEnded, type TaskRecord} from '../store/task-record.js'
import {isSameProcessAlive} from '../os/process-table.js'
import {pauseTaskProcesses, resumeTaskProcesses, terminateTaskProcesses} from '../os/task-processes.js'
import {refuseBeforeReset, resumesAfterLimit, usageLimitResetMs} from './limits/usage-limit.js'
import {limitsForFollowUp} from './limits/stop.js'
import type {TaskLimits} from './limits/limits.js'
import type {TaskHost} from './host.js'

// ---- controls that work from any process ----

export async function pauseTask(host: TaskHost, idOrPrefix: string): Promise<TaskRecord> {
  host.reap()
  const task = host.store.tasks.resolve(idOrPrefix)
  if (task.state !== 'running' || !task.pid) throw new MakimaError('INVALID_STATE', `task ${task.shortId} is ${task.state}; only a running task can be paused`)
  pauseTaskProcesses(task.id, task.pid, host.runnerPids())
  return host.changed(host.store.tasks.transition(task.id, ['running'], 'paused'))
}

export async function resumeTask(host: TaskHost, idOrPrefix: string): Promise<TaskRecord> {
  host.reap()
  const task = host.store.tasks.resolve(idOrPrefix)
  if (task.state !== 'paused') throw new MakimaError('INVALID_STATE', `task ${task.shortId} is ${task.state}; only a paused task can be resumed`)
  resumeTaskProcesses(task.id, task.pid, host.runnerPids())
  return host.changed(host.store.tasks.transition(task.id, ['paused'], 'running'))
}

/**
 * End a task and every process it started. The owning process does the work when alive (so it
 * records the outcome); otherwise this process does. Returns once the task has ended. `reason`
 * becomes the task's error when this process runs it (a daemon drain says why); else 'interrupted'.
 */
export async function interruptTask(host: TaskHost, idOrPrefix: string, reason?: string): Promise<TaskRecord> {
  host.reap()
  const task = host.store.tasks.resolve(idOrPrefix)
  if (isEnded(task.state)) throw new MakimaError('INVALID_STATE', `task ${task.shortId} has already ${task.state === 'interrupted' ? 'been interrupted' : task.state}`)
  if (task.state === 'pending') return host.finish(task.id, 'interrupted', {error: 'interrupted before it started'})
  if (task.state === 'queued') {
    try {
      return host.finish(task.id, 'interrupted', {error: 'removed from the queue'}, ['queued'])
    } catch (error) {
      if (!(error instanceof MakimaError) || error.code !== 'INVALID_STATE') throw error
      return interruptTask(host, task.id, reason) // promoted meanwhile: interrupt it as a started task
    }
  }
  const local = host.runs.get(task.id)
  if (local) {
    await local.interrupt(reason)
    return waitForTaskEnd(host, task.id)
  }
  const graceMs = host.config.process.interruptGraceSecs * 1000
  if (task.runnerPid && task.runnerPid !== process.pid && isSameProcessAlive(task.runnerPid, task.runnerStart)) {
    host.store.inbox.push(task.id, 'interrupt')
    try {
      return await waitForTaskEnd(host, task.id, graceMs + 15_000)
    } catch {
      // the runner did not answer: do it here
    }
  }
  await terminateTaskProcesses(task.id, task.pid, graceMs, host.runnerPids())
  const current = host.store.tasks.require(task.id)
  return isActive(current.state) ? host.finish(task.id, 'interrupted', {error: reason ?? 'interrupted'}) : current
}

/**
 * A follow-up message. Active task: delivered to claude's stdin by its owner (a paused task is
 * resumed first). Ended task with a session and a worktree: a slot is taken and the session is
 * resumed with the message in a detached runner (or here when `inProcess`). An ended task of the
 * server's is resumed only by the daemon (`inProcess`).
 */
export async function sendMessage(
  host: TaskHost,
  idOrPrefix: string,
  message: string,
  options: {inProcess?: boolean; limits?: Partial<TaskLimits>; resumeAfterLimit?: boolean} = {},
): Promise<{task: TaskRecord; resumed: boolean}> {
  if (message.trim().length === 0) throw new MakimaError('INVALID_INPUT', 'the message is empty')
  host.reap()
  let task = host.store.tasks.resolve(idOrPrefix)
  if (task.state === 'pending') throw new MakimaError('INVALID_STATE', `task ${task.shortId} is pending; start it first (makima task start ${task.shortId})`)
  if (task.state === 'queued') throw new MakimaError('INVALID_STATE', `task ${task.shortId} is queued; send the message once it has started`)
  if (isActive(task.state)) {
    task = limitsForFollowUp(host.store, task, options.limits, false)
    if (task.state === 'paused') task = await resumeTask(host, task.id)
    host.store.inbox.push(task.id, 'message', message)
    return {task, resumed: false}
  }
  if (!task.sessionId) throw new MakimaError('INVALID_STATE', `task ${task.shortId} is ${task.state} and has no Claude session to resume`)
  if (task.origin === 'daemon' && !options.inProcess) {
    // Resumed here it would run outside the daemon: its output, tool key and completion unknown to the server.
    throw new MakimaError('INVALID_STATE', `task ${task.shortId} was started by the makima server and has ended; send the message through the server, which has the daemon resume it`)
  }
  if (!task.worktreePath || !existsSync(task.worktreePath)) {
    throw new MakimaError('INVALID_STATE', `task ${task.shortId} is ${task.state} and its worktree is gone; its session cannot be resumed`)
  }
  task = limitsForFollowUp(host.store, task, options.limits, true)
  if (options.resumeAfterLimit !== undefined) task = host.store.tasks.update(task.id, {resumeAfterLimit: options.resumeAfterLimit})
  if (!resumesAfterLimit(task)) refuseBeforeReset(task)
  host.store.inbox.push(task.id, 'message', message)
  if (resumesAfterLimit(task) && (usageLimitResetMs(task) ?? 0) > Date.now()) {
    // before the reset with --resume-after-limit: a runner waits for it (manager.run, limits/usage-limit.ts)
    return {task: options.inProcess ? task : host.startDetachedRunner(task.id), resumed: true}
  }
  try {
    task = host.acquire(task.id, ENDED_STATES)
  } catch (error) {
    host.store.inbox.take(task.id, 'message') // nothing half-done stays behind
    throw error
  }
  if (options.inProcess) return {task, resumed: true}
  return {task: host.startDetachedRunner(task.id), resumed: true}
}

/** A task --resume-after-limit resumes at its usage limit's reset: waited for until a minute past it. */
function awaitsResume(task: TaskRecord): boolean {
  return resumesAfterLimit(task) && (usageLimitResetMs(task) ?? 0) + RESUME_GRACE_MS > Date.now()
}
const RESUME_GRACE_MS = 60_000

/** Poll the store until the task has ended (reaping dead runners on the way); through a usage limit it resumes after (awaitsResume). */
export async function waitForTaskEnd(host: TaskHost, taskId: string, timeoutMs?: number): Promise<TaskRecord> {
  const deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + timeoutMs
  for (;;) {
    host.reap()
    const task = host.store.tasks.require(taskId)
    if (isEnded(task.state) && !awaitsResume(task)) return task
    if (Date.now() >= deadline) throw new MakimaError('TIMEOUT', `task ${task.shortId} is still ${task.state}`)
    await sleep(Math.min(200, Math.max(1, deadline - Date.now())))
  }
}
