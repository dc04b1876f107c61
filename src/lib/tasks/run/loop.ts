import {setTimeout as sleep} from 'node:timers/promises'

import {authFailureTaskError} from '../../claude/auth-failure.js'
import {sandboxWrapper, type CommandWrapper} from '../../claude/sandbox.js'
import {MakimaError} from '../../errors.js'
import {isEnded, type TaskPatch, type TaskRecord} from '../../store/task-record.js'
import {AutonomousSession, COMPLETION_GATE_PROMPT} from '../autonomous/session.js'
import {runCompletionAction, type CompletionContext} from '../delivery/actions.js'
import {startHeartbeat, type HeartbeatContext} from './heartbeat.js'
import type {TaskHost} from '../host.js'
import {failAtLimit, failIfLimitReached} from '../limits/stop.js'
import {TaskRun, type RunOutcome} from './claude-run.js'
import {usageLimitError} from './rate-watch.js'

/**
 * Run a task in this process until it ends: initializing -> starting -> running -> ended.
 * Messages that arrive after claude closed are delivered by resuming the session.
 */
export async function runTaskHere(host: TaskHost, taskId: string): Promise<TaskRecord> {
  const {store} = host
  let task = store.tasks.update(taskId, host.runnerPatch())
  if (task.state !== 'initializing') throw new MakimaError('INVALID_STATE', `task ${task.shortId} is ${task.state}; it cannot be run`)
  task = await host.prepareWorkspace(taskId)
  let resume = task.sessionId !== null && store.inbox.pendingCount(taskId, 'message') > 0
  let claudePath: string
  let wrapCommand: CommandWrapper | undefined
  try {
    claudePath = host.claudePath()
    wrapCommand = await sandboxWrapper(task, host.config, host.env)
  } catch (error) {
    return host.finish(taskId, 'failed', {error: (error as Error).message})
  }
  if (host.stopping) return host.finish(taskId, 'interrupted', {error: 'interrupted before Claude Code started'})
  host.changed(store.tasks.transition(taskId, ['initializing'], 'starting', {error: null, failureKind: null, rateLimitedUntil: null, exitCode: null, completedAt: null}))
  // Autonomous tasks: runs go on (--continue) until the completion gate says ready (tasks/autonomous/session.ts).
  const auto = task.autonomous ? new AutonomousSession(task, host.config.autonomous, (m) => host.progress(taskId, m)) : undefined
  await auto?.begin()
  let continuation: string | undefined
  for (;;) {
    const limited = await failIfLimitReached(host, taskId)
    if (limited) return limited
    const messages = continuation !== undefined ? [continuation] : resume ? store.inbox.take(taskId, 'message').map((m) => m.payload ?? '') : [task.plan]
    const run = new TaskRun(
      {
        store,
        config: host.config,
        claudePath,
        parentEnv: host.env,
        emit: auto ? auto.tap(host.emit) : host.emit,
        excludePids: () => host.runnerPids(),
        role: host.role,
        continueSession: continuation !== undefined,
        extraSystemPrompt: auto ? COMPLETION_GATE_PROMPT : undefined,
        wrapCommand,
      },
      task,
      messages,
      resume && continuation === undefined,
    )
    host.runs.set(taskId, run)
    const outcomePromise = run.start()
    if (run.pid) {
      const current = store.tasks.require(taskId)
      const patch: TaskPatch = {pid: run.pid, startedAt: current.startedAt ?? new Date().toISOString()}
      if (current.state === 'starting') host.changed(store.tasks.transition(taskId, ['starting'], 'running', patch))
      else store.tasks.update(taskId, patch)
      host.progress(
        taskId,
        continuation !== undefined
          ? `Claude Code continued its session with --continue (pid ${run.pid})`
          : resume
            ? `Resumed Claude session ${task.sessionId} (pid ${run.pid})`
            : `Claude Code started (pid ${run.pid})`,
      )
    }
    const heartbeat = startHeartbeat(store.tasks.require(taskId), heartbeatContext(host, taskId))
    const outcome = await outcomePromise
    await heartbeat.stop()
    host.runs.delete(taskId)
    if (host.abandoning) return store.tasks.update(taskId, {pid: null, needsRecovery: true})
    task = store.tasks.require(taskId)
    const again = !outcome.interrupted && !outcome.authFailure && !outcome.storeFailure && !outcome.limit && !outcome.usageLimit && task.sessionId && store.inbox.pendingCount(taskId, 'message') > 0
    continuation = undefined
    if (!again) {
      if (auto && endedNormally(outcome)) {
        const next = await auto.afterRun()
        if (next.action === 'fail') return host.finish(taskId, 'failed', {exitCode: 0, error: next.error})
        if (next.action === 'continue') {
          const ended = await betweenRuns(host, taskId)
          if (ended) return ended
          continuation = next.prompt
          continue
        }
      }
      return await finishRun(host, taskId, outcome)
    }
    resume = true
  }
}

/**
 * Between two autonomous runs: an interrupt that arrived meanwhile ends the task, a pause holds
 * the next run back until resumed. Returns the task when it has ended.
 */
async function betweenRuns(host: TaskHost, taskId: string): Promise<TaskRecord | undefined> {
  for (;;) {
    if (host.abandoning) return host.store.tasks.update(taskId, {pid: null, needsRecovery: true})
    const task = host.store.tasks.require(taskId)
    if (isEnded(task.state)) return task
    if (host.stopping || host.store.inbox.take(taskId, 'interrupt').length > 0) {
      return host.finish(taskId, 'interrupted', {exitCode: 0, error: 'interrupted between autonomous runs'})
    }
    if (task.state !== 'paused') return undefined
    await sleep(200)
  }
}

async function finishRun(host: TaskHost, taskId: string, outcome: RunOutcome): Promise<TaskRecord> {
  const {exit, lastResult} = outcome
  const exitCode = exit.code ?? (exit.signal ? 128 : null)
  if (outcome.storeFailure) {
    return host.finish(taskId, 'failed', {exitCode, error: `the task's output could not be stored, so Claude Code was stopped: ${outcome.storeFailure}`})
  }
  if (outcome.limit) return failAtLimit(host, taskId, outcome.limit, exitCode)
  if (outcome.interrupted) return host.finish(taskId, 'interrupted', {exitCode, error: outcome.interruptReason ?? 'interrupted'})
  if (outcome.authFailure) {
    return host.finish(taskId, 'failed', {exitCode, error: authFailureTaskError(outcome.authFailure), failureKind: 'auth'})
  }
  if (outcome.usageLimit) {
    const {usageLimit} = outcome
    const task = host.store.tasks.require(taskId)
    const rateLimitedUntil = usageLimit.untilMs === null ? null : new Date(usageLimit.untilMs).toISOString()
    return host.finish(taskId, 'failed', {exitCode, error: usageLimitError(usageLimit, task.resumeAfterLimit), failureKind: 'usage_limit', rateLimitedUntil})
  }
  if (exit.spawnError) return host.finish(taskId, 'failed', {error: `could not start Claude Code: ${exit.spawnError.message}`})
  if (lastResult && !lastResult.isError && exit.code === 0) {
    const completionAction = await runCompletionAction(host.store.tasks.require(taskId), completionContext(host, taskId))
    return host.finish(taskId, 'completed', {exitCode: 0, completionAction})
  }
  if (lastResult?.isError) {
    const status = lastResult.apiErrorStatus ? ` (API ${lastResult.apiErrorStatus})` : ''
    return host.finish(taskId, 'failed', {exitCode, error: `${lastResult.result ?? 'Claude Code reported an error'}${status}`})
  }
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`
  const tail = exit.stderrTail ? `: ${exit.stderrTail.split('\n').slice(-5).join(' | ')}` : ''
  return host.finish(taskId, 'failed', {exitCode, error: `Claude Code ${how} before finishing${tail}`})
}

function heartbeatContext(host: TaskHost, taskId: string): HeartbeatContext {
  const onCheckpoint = host.onCheckpoint
  return {
    config: host.config,
    store: host.store,
    emit: host.emit,
    progress: (m) => host.progress(taskId, m),
    onCheckpoint: onCheckpoint ? (payload) => onCheckpoint(taskId, payload) : undefined,
  }
}

function completionContext(host: TaskHost, taskId: string): CompletionContext {
  return {config: host.config, store: host.store, env: host.env, progress: (m) => host.progress(taskId, m)}
}

/** A run that ended the way a finished turn ends: claude exited 0 after a successful result. */
function endedNormally(outcome: RunOutcome): boolean {
  return (
    !outcome.interrupted &&
    !outcome.authFailure &&
    !outcome.storeFailure &&
    !outcome.limit &&
    !outcome.usageLimit &&
    !outcome.exit.spawnError &&
    outcome.exit.code === 0 &&
    outcome.lastResult !== null &&
    !outcome.lastResult.isError
  )
}
