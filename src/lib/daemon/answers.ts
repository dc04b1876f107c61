import type {CommandType} from './protocol.js'

/**
 * The answer message of each command that has one (protocol.md), and its shape when the command
 * failed: sent with success: false after the commandError, so a server waiting is not left hanging.
 */
export function failureAnswer(type: string, raw: Record<string, unknown>, message: string): {type: string; body: Record<string, unknown>} | undefined {
  // the command's fields may be unvalidated: echo strings only, cut to a sane length
  const text = (key: string) => {
    const v = raw[key]
    return typeof v === 'string' ? (v.length > 4096 ? v.slice(0, 4096) : v) : undefined
  }
  const fields = {taskId: text('taskId'), requestId: text('requestId'), filePath: text('filePath') ?? '', targetDir: text('targetDir'), branchName: text('branchName') ?? ''}
  const taskId = fields.taskId
  const base = {taskId, success: false}
  const answers: Partial<Record<CommandType, {type: string; body: Record<string, unknown>}>> = {
    listBranches: {type: 'branchList', body: {...base, branches: []}},
    mergeStart: {type: 'mergeResult', body: {...base, message}},
    mergeResolve: {type: 'mergeResult', body: {...base, message}},
    mergeCommit: {type: 'mergeResult', body: {...base, message}},
    mergeAbort: {type: 'mergeResult', body: {...base, message}},
    mergeSkip: {type: 'mergeResult', body: {...base, message}},
    mergeStatus: {type: 'mergeStatusResponse', body: {...base, inProgress: false, conflictedFiles: []}},
    checkMergeComplete: {type: 'mergeCompleteCheck', body: {...base, canComplete: false, unmergedBranches: [], mergedCount: 0, skippedCount: 0}},
    retryCompletionAction: {type: 'completionActionResult', body: {...base, message}},
    cloneWorktree: {type: 'cloneWorktreeResult', body: {...base, message, targetDir: fields.targetDir}},
    checkTargetExists: {type: 'checkTargetExistsResult', body: {...base, exists: false, targetDir: fields.targetDir ?? ''}},
    cleanupWorktree: {type: 'cleanupWorktreeResult', body: {...base, message}},
    readRepoFile: {type: 'repoFileContent', body: {requestId: fields.requestId, filePath: fields.filePath, success: false, error: message}},
    createBranch: {type: 'branchCreated', body: {...base, branchName: fields.branchName, message}},
    mergeTaskToTarget: {type: 'mergeToTargetResult', body: {...base, message}},
    createPR: {type: 'prCreated', body: {...base, message}},
    getTaskDiff: {type: 'taskDiff', body: {...base, error: message}},
    createCheckpoint: {type: 'checkpointCreated', body: {...base, message, error: message}},
    inheritGitConfig: {type: 'gitConfigInherited', body: {success: false, error: message}},
  }
  // own keys only: a frame of type "constructor" or "__proto__" must not find Object.prototype's
  return Object.hasOwn(answers, type) ? answers[type as CommandType] : undefined
}
