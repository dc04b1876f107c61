import {MakimaError} from '../errors.js'
import {ENDED_STATES, isActive, type TaskRecord} from '../store/task-record.js'
import type {TaskSpec} from '../tasks/spec.js'
import type {OutgoingMessage} from './event-sink.js'
import type {Command, CommandOf, CommandType} from './protocol.js'
import type {DispatchContext, Handler, HandlerTable} from './dispatch-context.js'

export type {DispatchContext, Handler, HandlerTable} from './dispatch-context.js'
import {GIT_HANDLERS} from './git-handlers.js'
import {applyPatch} from '../git/patches.js'
import {resolveCommit} from '../git/refs.js'
import {ensureWorktree, resetTo} from '../git/worktrees.js'
import {worktreePathFor} from '../tasks/spec.js'
import {existsSync} from 'node:fs'
import path from 'node:path'
import {AUTH_CODE_PREFIX} from './auth-flow.js'
import {answerRefusedMove, checkpointPatchOf, firstMessageOf, requirePatchBase} from './migration.js'

/** Run one validated command; returns its answer message (if it has one). Throws MakimaError on failure. */
export async function dispatch(command: Command, ctx: DispatchContext): Promise<OutgoingMessage | void> {
  const handler = (TASK_HANDLERS[command.type] ?? GIT_HANDLERS[command.type]) as Handler<CommandType> | undefined
  if (!handler) throw new MakimaError('INTERNAL', `command ${command.type} is not handled by this daemon yet`)
  // a task moving here from another daemon: a refusal ends it for the server too (migration.ts)
  if (command.type === 'spawnTask') return answerRefusedMove(command, ctx, () => handler(command as never, ctx))
  return handler(command as never, ctx)
}

/**
 * A respawn from a checkpoint (protocol.md "Checkpoint patches"): the new task's worktree is made
 * now, moved to `patchBaseSha` and the patch applied, before Claude Code starts in it. A patch
 * that does not apply (or a base the repository lacks) fails the task and the command.
 */
async function restorePatch(ctx: DispatchContext, taskId: string, patchBaseSha: string, patch: Buffer): Promise<void> {
  const task = await ctx.manager.prepareWorkspace(taskId)
  try {
    const base = await resolveCommit(task.worktreePath!, patchBaseSha)
    if (!base) throw new MakimaError('INVALID_INPUT', `patchBaseSha ${patchBaseSha} is not a commit of ${task.repoPath}`)
    await resetTo(task.worktreePath!, base, 'hard')
    // the worktree is exactly the base now: a patch that does not apply is bad input
    await applyPatch(task.worktreePath!, patch).catch((error: Error) => {
      throw new MakimaError('INVALID_INPUT', `spawnTask.patchData does not apply on ${base.slice(0, 8)}: ${error.message}`)
    })
    ctx.store.tasks.update(taskId, {baseSha: base})
    ctx.manager.note(taskId, `Applied the checkpoint patch (${patch.length} bytes) on ${base.slice(0, 8)}`)
  } catch (error) {
    ctx.manager.finish(taskId, 'failed', {error: `restoring the checkpoint patch failed: ${(error as Error).message}`})
    throw error
  }
}

/**
 * Respawn an ended task whose worktree is gone (protocol.md taskRecoveryDetected with
 * worktreeIntact: false): the worktree is made again at the same path on the task's branch (or
 * at patchBaseSha with the checkpoint patch applied, when the server sends one), a slot is
 * taken, and Claude Code runs again: resuming its session with the plan as the next message
 * when resumeSession is set and a session is known, else from the plan.
 */
async function respawnInNewWorktree(ctx: DispatchContext, task: TaskRecord, cmd: CommandOf<'spawnTask'>): Promise<void> {
  const repo = task.repoPath!
  const worktree = task.worktreePath ?? worktreePathFor(task, ctx.config)
  if (!existsSync(repo)) throw new MakimaError('INVALID_STATE', `the repository of task ${task.shortId} (${repo}) is gone; it cannot be respawned`)
  let patchBase: string | undefined
  if (cmd.patchBaseSha !== undefined) {
    patchBase = await resolveCommit(repo, cmd.patchBaseSha)
    if (!patchBase) throw new MakimaError('INVALID_INPUT', `patchBaseSha ${cmd.patchBaseSha} is not a commit of ${repo}`)
  }
  // take the slot first (nothing is made when the cap is full), then build the worktree
  ctx.store.inbox.take(task.id, 'message')
  const resume = cmd.resumeSession && task.sessionId !== null
  // a new session: the server's copy of the conversation (trimmed) or the note on the work so far, then the plan
  const plan = resume ? cmd.plan : firstMessageOf(cmd)
  ctx.manager.acquire(task.id, ENDED_STATES, {worktreePath: worktree, plan, error: null, exitCode: null, completedAt: null})
  try {
    // on the task's branch as it is, or (a checkpoint patch follows) the branch moved to the patch's base
    await ensureWorktree({
      repoPath: repo,
      worktreePath: worktree,
      locksDir: path.join(ctx.config.home, 'locks'),
      startAt: patchBase ?? task.baseSha ?? 'HEAD',
      branch: {name: task.branch!, mode: patchBase ? 'reset' : 'reuse'},
      recreate: true,
    })
    if (patchBase && cmd.patchData !== undefined) {
      const patch = Buffer.from(cmd.patchData, 'base64')
      await applyPatch(worktree, patch).catch((error: Error) => {
        throw new MakimaError('INVALID_INPUT', `spawnTask.patchData does not apply on ${patchBase!.slice(0, 8)}: ${error.message}`)
      })
      ctx.store.tasks.update(task.id, {baseSha: patchBase})
      ctx.manager.note(task.id, `Worktree made again at ${worktree}; applied the checkpoint patch (${patch.length} bytes) on ${patchBase.slice(0, 8)}`)
    } else {
      ctx.manager.note(task.id, `Worktree made again at ${worktree} on branch ${task.branch}`)
    }
  } catch (error) {
    ctx.manager.finish(task.id, 'failed', {error: `respawning the task failed: ${(error as Error).message}`})
    throw error
  }
  if (resume) ctx.store.inbox.push(task.id, 'message', cmd.plan)
  ctx.runInBackground(task.id)
}

const TASK_HANDLERS: HandlerTable = {
  async spawnTask(cmd, ctx) {
    const patch = checkpointPatchOf(cmd) // a task moving here from another daemon (migration.ts)
    const existing = ctx.store.tasks.get(cmd.taskId)
    if (existing) {
      if (existing.origin !== 'daemon') throw new MakimaError('TASK_EXISTS', `task ${cmd.taskId} exists on this machine and was not started by the server`)
      if (isActive(existing.state)) throw new MakimaError('TASK_EXISTS', `task ${cmd.taskId} is already ${existing.state}`)
      const worktreeLost = existing.repoPath !== null && !(existing.worktreePath && existsSync(existing.worktreePath))
      if (worktreeLost) {
        // taskRecoveryDetected said worktreeIntact: false; the server respawns the task here
        await respawnInNewWorktree(ctx, existing, cmd)
        return
      }
      if (cmd.patchData !== undefined) {
        throw new MakimaError('INVALID_STATE', `task ${existing.shortId} still has its worktree (${existing.worktreePath}); resume it with resumeSession instead of a checkpoint patch`)
      }
      if (!cmd.resumeSession) throw new MakimaError('TASK_EXISTS', `task ${cmd.taskId} already exists (${existing.state}); set resumeSession to resume it`)
      const {resumed} = await ctx.manager.send(cmd.taskId, cmd.plan, {inProcess: true})
      if (resumed) ctx.runInBackground(cmd.taskId)
      return
    }
    const knownParent = cmd.parentTaskId ? ctx.store.tasks.get(cmd.parentTaskId) : undefined
    const spec: TaskSpec = {
      id: cmd.taskId,
      name: cmd.taskName,
      // a session this machine never had: the server's copy of the conversation, or a note (migration.ts)
      plan: firstMessageOf(cmd),
      repo: cmd.repoUrl,
      baseBranch: cmd.baseBranch,
      targetBranch: cmd.targetBranch,
      targetRepo: cmd.targetRepoPath === undefined ? undefined : await ctx.paths.targetRepo(cmd.targetRepoPath, 'spawnTask.targetRepoPath'),
      completionAction: cmd.completionAction,
      parentTaskId: knownParent ? knownParent.id : undefined,
      isOrchestrator: cmd.isOrchestrator,
      isSupervisor: cmd.isSupervisor,
      autonomous: cmd.autonomousLoop,
      contractId: cmd.contractId,
      continueFromTaskId: cmd.continueFromTaskId,
      copyFiles: cmd.copyFiles,
      origin: 'daemon',
    }
    if (cmd.patchData !== undefined && !cmd.repoUrl) throw new MakimaError('INVALID_INPUT', 'spawnTask.patchData needs repoUrl (the repository the patch applies to)')
    const task = await ctx.manager.admit(spec)
    if (cmd.parentTaskId && !knownParent) ctx.store.tasks.update(task.id, {parentTaskId: cmd.parentTaskId})
    if (patch) await restorePatch(ctx, task.id, await requirePatchBase(ctx, task, cmd.patchBaseSha!), patch)
    ctx.runInBackground(task.id)
  },

  async pauseTask(cmd, ctx) {
    ctx.requireTask(cmd.taskId)
    await ctx.manager.pause(cmd.taskId)
  },

  async resumeTask(cmd, ctx) {
    ctx.requireTask(cmd.taskId)
    await ctx.manager.resume(cmd.taskId)
  },

  async interruptTask(cmd, ctx) {
    ctx.requireTask(cmd.taskId)
    await ctx.manager.interrupt(cmd.taskId)
  },

  async sendMessage(cmd, ctx) {
    if (cmd.message.startsWith(AUTH_CODE_PREFIX)) {
      // the user's code for the waiting `claude setup-token` (auth-flow.ts); never a task message
      await ctx.authFlows.submitCode(cmd.message.slice(AUTH_CODE_PREFIX.length))
      return
    }
    ctx.requireTask(cmd.taskId)
    const {resumed} = await ctx.manager.send(cmd.taskId, cmd.message, {inProcess: true})
    if (resumed) ctx.runInBackground(cmd.taskId)
  },

  async injectSiblingContext(cmd, ctx) {
    ctx.requireTask(cmd.taskId) // accepted and ignored for subprocess tasks (protocol.md)
  },

  async restartDaemon(_cmd, ctx) {
    ctx.restart()
  },
}
