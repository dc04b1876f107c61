import {outgoing, type OutgoingMessage} from './messages.js'
import type {CommandType} from './protocol.js'

/**
 * The answer message of each command that has one (protocol.md), and its shape when the command
 * failed: sent with success: false after the commandError, so a server waiting is not left hanging.
 */
export function failureAnswer(type: string, raw: Record<string, unknown>, message: string): OutgoingMessage | undefined {
  // the command's fields may be unvalidated: echo strings only, cut to a sane length
  const text = (key: string) => {
    const v = raw[key]
    return typeof v === 'string' ? (v.length > 4096 ? v.slice(0, 4096) : v) : undefined
  }
  const fields = {taskId: text('taskId'), requestId: text('requestId'), filePath: text('filePath') ?? '', targetDir: text('targetDir'), branchName: text('branchName') ?? ''}
  const taskId = fields.taskId
  const base = {taskId, success: false as const}
  const answers: Partial<Record<CommandType, OutgoingMessage>> = {
    listBranches: outgoing('branchList', {...base, branches: []}),
    mergeStart: outgoing('mergeResult', {...base, message}),
    mergeResolve: outgoing('mergeResult', {...base, message}),
    mergeCommit: outgoing('mergeResult', {...base, message}),
    mergeAbort: outgoing('mergeResult', {...base, message}),
    mergeSkip: outgoing('mergeResult', {...base, message}),
    mergeStatus: outgoing('mergeStatusResponse', {...base, inProgress: false, conflictedFiles: []}),
    checkMergeComplete: outgoing('mergeCompleteCheck', {...base, canComplete: false, unmergedBranches: [], mergedCount: 0, skippedCount: 0}),
    retryCompletionAction: outgoing('completionActionResult', {...base, message}),
    cloneWorktree: outgoing('cloneWorktreeResult', {...base, message, targetDir: fields.targetDir}),
    checkTargetExists: outgoing('checkTargetExistsResult', {...base, exists: false, targetDir: fields.targetDir ?? ''}),
    cleanupWorktree: outgoing('cleanupWorktreeResult', {...base, message}),
    readRepoFile: outgoing('repoFileContent', {requestId: fields.requestId, filePath: fields.filePath, success: false, error: message}),
    createBranch: outgoing('branchCreated', {...base, branchName: fields.branchName, message}),
    mergeTaskToTarget: outgoing('mergeToTargetResult', {...base, message}),
    createPR: outgoing('prCreated', {...base, message}),
    getTaskDiff: outgoing('taskDiff', {...base, error: message}),
    createCheckpoint: outgoing('checkpointCreated', {...base, message, error: message}),
    inheritGitConfig: outgoing('gitConfigInherited', {success: false, error: message}),
  }
  // own keys only: a frame of type "constructor" or "__proto__" must not find Object.prototype's
  return Object.hasOwn(answers, type) ? answers[type as CommandType] : undefined
}
