import path from 'node:path'

import {configuredIdentity} from '../git/identity.js'
import {createCheckpoint} from '../tasks/checkpoints/checkpoints.js'
import {retryCompletionAction} from '../tasks/delivery/actions.js'
import {abortTaskMerge, checkMergeComplete, commitTaskMerge, listTaskBranches, mergeStatus, resolveMergeConflict, skipSubtaskMerge, startMerge} from '../tasks/merges.js'
import {checkTargetExists, cloneWorktree, createBranch, createPR, mergeTaskToTarget, readRepoFile} from '../tasks/workspace/repo-ops.js'
import {cleanupTask} from '../tasks/workspace/cleanup.js'
import {taskDiff} from '../tasks/workspace/diff.js'
import type {DispatchContext, HandlerTable} from './dispatch-context.js'
import {outgoing} from './messages.js'

/**
 * Git-workflow commands (merges, checkpoints, diff, completion actions, repository files), each
 * answered with its protocol.md answer by the library function the CLI uses too.
 */
const mergeCtx = (ctx: DispatchContext) => ({store: ctx.store, locksDir: path.join(ctx.config.home, 'locks')})
const delivery = (ctx: DispatchContext, taskId: string) => ({config: ctx.config, env: ctx.manager.taskEnvironmentBase(), progress: (m: string) => ctx.manager.note(taskId, m)})
const answer = outgoing

export const GIT_HANDLERS: HandlerTable = {
  async listBranches(cmd, ctx) {
    ctx.requireTask(cmd.taskId)
    return answer('branchList', await listTaskBranches(ctx.store, cmd.taskId), cmd.taskId)
  },
  async mergeStart(cmd, ctx) {
    ctx.requireTask(cmd.taskId)
    return answer('mergeResult', await startMerge(mergeCtx(ctx), cmd.taskId, cmd.sourceBranch), cmd.taskId)
  },
  async mergeStatus(cmd, ctx) {
    ctx.requireTask(cmd.taskId)
    return answer('mergeStatusResponse', await mergeStatus(ctx.store, cmd.taskId), cmd.taskId)
  },
  async mergeResolve(cmd, ctx) {
    ctx.requireTask(cmd.taskId)
    return answer('mergeResult', await resolveMergeConflict(mergeCtx(ctx), cmd.taskId, cmd.file, cmd.strategy), cmd.taskId)
  },
  async mergeCommit(cmd, ctx) {
    ctx.requireTask(cmd.taskId)
    return answer('mergeResult', await commitTaskMerge(mergeCtx(ctx), cmd.taskId, cmd.message), cmd.taskId)
  },
  async mergeAbort(cmd, ctx) {
    ctx.requireTask(cmd.taskId)
    return answer('mergeResult', await abortTaskMerge(mergeCtx(ctx), cmd.taskId), cmd.taskId)
  },
  async mergeSkip(cmd, ctx) {
    ctx.requireTask(cmd.taskId)
    return answer('mergeResult', await skipSubtaskMerge(ctx.store, cmd.taskId, cmd.subtaskId, cmd.reason), cmd.taskId)
  },
  async checkMergeComplete(cmd, ctx) {
    ctx.requireTask(cmd.taskId)
    return answer('mergeCompleteCheck', await checkMergeComplete(ctx.store, cmd.taskId), cmd.taskId)
  },
  async retryCompletionAction(cmd, ctx) {
    ctx.requireTask(cmd.taskId)
    const result = await retryCompletionAction(
      cmd.taskId,
      {action: cmd.action, targetRepo: await ctx.paths.targetRepo(cmd.targetRepoPath, 'retryCompletionAction.targetRepoPath'), targetBranch: cmd.targetBranch},
      {config: ctx.config, store: ctx.store, env: ctx.manager.taskEnvironmentBase(), progress: (m) => ctx.manager.note(cmd.taskId, m)},
    )
    return answer('completionActionResult', {taskId: cmd.taskId, ...result}, cmd.taskId)
  },
  async cloneWorktree(cmd, ctx) {
    const task = ctx.requireTask(cmd.taskId)
    return answer('cloneWorktreeResult', await cloneWorktree(task, ctx.paths.targetDir(cmd.targetDir, 'cloneWorktree.targetDir')), cmd.taskId)
  },
  async checkTargetExists(cmd, ctx) {
    ctx.requireTask(cmd.taskId)
    return answer('checkTargetExistsResult', checkTargetExists(cmd.taskId, ctx.paths.targetDir(cmd.targetDir, 'checkTargetExists.targetDir')), cmd.taskId)
  },
  async readRepoFile(cmd, ctx) {
    const root = ctx.paths.readRoot(cmd.repoPath)
    const content = await readRepoFile(root, cmd.filePath, (file) => ctx.paths.readableFile(file, cmd.filePath))
    return answer('repoFileContent', {requestId: cmd.requestId, ...content})
  },
  async createBranch(cmd, ctx) {
    const task = ctx.requireTask(cmd.taskId)
    return answer('branchCreated', await createBranch(task, cmd.branchName, cmd.fromRef), cmd.taskId)
  },
  async mergeTaskToTarget(cmd, ctx) {
    const task = ctx.requireTask(cmd.taskId)
    return answer('mergeToTargetResult', await mergeTaskToTarget(task, cmd.targetBranch, cmd.squash, delivery(ctx, cmd.taskId)), cmd.taskId)
  },
  async createPR(cmd, ctx) {
    const task = ctx.requireTask(cmd.taskId)
    return answer('prCreated', await createPR(task, cmd.title, cmd.body, cmd.baseBranch, delivery(ctx, cmd.taskId)), cmd.taskId)
  },
  async getTaskDiff(cmd, ctx) {
    const task = ctx.requireTask(cmd.taskId)
    return answer('taskDiff', await taskDiff(ctx.store, task), cmd.taskId)
  },
  async createCheckpoint(cmd, ctx) {
    const task = ctx.requireTask(cmd.taskId)
    return answer('checkpointCreated', await createCheckpoint(ctx.store, ctx.config, task, {message: cmd.message, includePatch: ctx.config.checkpointPatches.enabled}), cmd.taskId)
  },
  async cleanupWorktree(cmd, ctx) {
    ctx.requireTask(cmd.taskId)
    const result = await cleanupTask(ctx.manager, cmd.taskId, {deleteBranch: cmd.deleteBranch})
    return answer('cleanupWorktreeResult', {taskId: cmd.taskId, success: result.success, message: result.message}, cmd.taskId)
  },
  async inheritGitConfig(cmd, ctx) {
    const cwd = cmd.sourceDir ? await ctx.paths.sourceDir(cmd.sourceDir) : process.cwd()
    const {userName, userEmail} = await configuredIdentity(cwd)
    if (!userName && !userEmail) return answer('gitConfigInherited', {success: false, error: `no user.name or user.email configured for ${cwd}`})
    return answer('gitConfigInherited', {success: true, userName, userEmail})
  },
}
