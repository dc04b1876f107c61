/**
 * The daemon -> server messages of the protocol (docs/protocol.md "Daemon -> server messages"),
 * typed: each body as sent, without `type` and `seq` (the outbox adds seq). Beside the inbound zod
 * schemas of protocol.ts, this makes a misspelt or missing field a compile error wherever a
 * message is built. Optional fields may be left out; they are then absent on the wire.
 */
import type {CheckpointCreated} from '../tasks/checkpoints/checkpoints.js'
import type {TaskUsage} from '../store/usage-store.js'

type Maybe<T> = T | undefined

interface TaskAnswer {
  taskId: Maybe<string>
  success: boolean
}

/** answers without a success field in v1; the failure answer after a commandError adds success: false */
interface TaskReport {
  taskId: Maybe<string>
  success?: false
}

export interface OutboundBodies {
  taskOutput: {taskId: string; output: string; isPartial: boolean}
  taskStatusChange: {taskId: string; oldStatus: string; newStatus: string}
  /** usage: the task's runs of Claude Code together (store/usage-store.ts TaskUsage), when it had any */
  taskComplete: {taskId: string; success: boolean; error?: string; usage?: TaskUsage}
  taskRecoveryDetected: {taskId: string; previousState: string; worktreeIntact: boolean; worktreePath?: string; needsPatch: boolean}
  registerToolKey: {taskId: string; toolKey: string}
  authenticationRequired: {taskId?: string; loginUrl: string; hostname?: string}
  branchList: TaskReport & {branches: Array<{name: string; taskId?: string | null; isMerged: boolean; lastCommit: string; lastCommitMessage: string}>}
  mergeResult: TaskAnswer & {message: string; commitSha?: string | null; conflicts?: string[]}
  mergeStatusResponse: TaskReport & {inProgress: boolean; sourceBranch?: string | null; conflictedFiles: string[]}
  mergeCompleteCheck: TaskReport & {canComplete: boolean; unmergedBranches: string[]; mergedCount: number; skippedCount: number}
  completionActionResult: TaskAnswer & {message: string; prUrl?: string | null}
  cloneWorktreeResult: TaskAnswer & {message: string; targetDir?: string}
  checkTargetExistsResult: {taskId: Maybe<string>; exists: boolean; targetDir: string}
  cleanupWorktreeResult: TaskAnswer & {message: string}
  repoFileContent: {requestId: Maybe<string>; filePath: string; content?: string; success: boolean; error?: string}
  branchCreated: TaskAnswer & {branchName: string; message: string}
  mergeToTargetResult: TaskAnswer & {message: string; commitSha?: string | null; conflicts?: string[]}
  prCreated: TaskAnswer & {message: string; prUrl?: string | null; prNumber?: number | null}
  taskDiff: TaskAnswer & {diff?: string; error?: string}
  checkpointCreated: Omit<CheckpointCreated, 'taskId'> & {taskId: Maybe<string>}
  gitConfigInherited: {success: boolean; userEmail?: string; userName?: string; error?: string}
  commandError: {commandType: string; taskId?: string; requestId?: string; code: string; message: string; retryAfter?: number}
}

export type OutboundType = keyof OutboundBodies

/** A message for the outbox: its type, the task it belongs to (for per-task order), its body. */
export type OutgoingMessage = {[T in OutboundType]: {type: T; taskId?: string | null; body: OutboundBodies[T]}}[OutboundType]

/** Build a message; `body` must be the type's body (a compile error otherwise). */
export function outgoing<T extends OutboundType>(type: T, body: OutboundBodies[T], taskId?: string | null): OutgoingMessage {
  return {type, taskId, body} as OutgoingMessage
}
