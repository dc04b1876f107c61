import {z} from 'zod'

import {branch, dir, line, MAX_ARG_TEXT_BYTES, MAX_LINE_BYTES, opt, relPath, revision, shallowJson, source, text, uuid} from './protocol-fields.js'

/**
 * The server -> daemon commands of docs/protocol.md, validated at the edge: every field typed
 * and bounded (protocol-fields.ts). Optional fields may be absent or null (both mean "absent");
 * ids are lowercase UUIDs.
 */
const action = z.enum(['none', 'branch', 'merge', 'pr'])

export const COMMAND_SCHEMAS = {
  spawnTask: z.object({
    taskId: uuid,
    taskName: text(MAX_LINE_BYTES),
    plan: z.string().min(1),
    repoUrl: opt(source),
    baseBranch: opt(branch),
    targetBranch: opt(branch),
    parentTaskId: opt(uuid),
    depth: opt(z.number().int().min(0)).transform((v) => v ?? 0),
    isOrchestrator: opt(z.boolean()).transform((v) => v ?? false),
    isSupervisor: opt(z.boolean()).transform((v) => v ?? false),
    targetRepoPath: opt(dir),
    completionAction: opt(action),
    continueFromTaskId: opt(uuid),
    copyFiles: opt(z.array(relPath).max(10_000)),
    contractId: opt(uuid),
    autonomousLoop: opt(z.boolean()).transform((v) => v ?? false),
    resumeSession: opt(z.boolean()).transform((v) => v ?? false),
    conversationHistory: shallowJson.optional(),
    // checked by the handler (migration.ts), so that a bad patch also ends the task for the server
    patchData: opt(z.string()),
    patchBaseSha: opt(z.string().max(MAX_LINE_BYTES)),
  }),
  pauseTask: z.object({taskId: uuid}),
  resumeTask: z.object({taskId: uuid}),
  interruptTask: z.object({taskId: uuid, graceful: opt(z.boolean())}),
  sendMessage: z.object({taskId: uuid, message: z.string().min(1)}),
  injectSiblingContext: z.object({taskId: uuid, context: shallowJson.optional()}),
  listBranches: z.object({taskId: uuid}),
  mergeStart: z.object({taskId: uuid, sourceBranch: branch}),
  mergeStatus: z.object({taskId: uuid}),
  mergeResolve: z.object({taskId: uuid, file: relPath, strategy: z.enum(['ours', 'theirs'])}),
  mergeCommit: z.object({taskId: uuid, message: text(MAX_ARG_TEXT_BYTES)}),
  mergeAbort: z.object({taskId: uuid}),
  mergeSkip: z.object({taskId: uuid, subtaskId: uuid, reason: text(MAX_ARG_TEXT_BYTES)}),
  checkMergeComplete: z.object({taskId: uuid}),
  retryCompletionAction: z.object({taskId: uuid, taskName: line(MAX_LINE_BYTES), action, targetRepoPath: dir, targetBranch: opt(branch)}),
  cloneWorktree: z.object({taskId: uuid, targetDir: dir}),
  checkTargetExists: z.object({taskId: uuid, targetDir: dir}),
  readRepoFile: z.object({requestId: uuid, contractId: uuid, filePath: relPath, repoPath: dir}),
  createBranch: z.object({taskId: uuid, branchName: branch, fromRef: opt(revision)}),
  mergeTaskToTarget: z.object({taskId: uuid, targetBranch: opt(branch), squash: opt(z.boolean()).transform((v) => v ?? false)}),
  createPR: z.object({taskId: uuid, title: text(MAX_LINE_BYTES), body: opt(z.string()), baseBranch: branch}),
  getTaskDiff: z.object({taskId: uuid}),
  createCheckpoint: z.object({taskId: uuid, message: text(MAX_ARG_TEXT_BYTES)}),
  cleanupWorktree: z.object({taskId: uuid, deleteBranch: opt(z.boolean()).transform((v) => v ?? false)}),
  inheritGitConfig: z.object({sourceDir: opt(dir)}),
  restartDaemon: z.object({}),
  ack: z.object({seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)}),
  error: z.object({code: z.string(), message: z.string()}),
} as const

export type CommandType = keyof typeof COMMAND_SCHEMAS
export type CommandOf<T extends CommandType> = {type: T} & z.output<(typeof COMMAND_SCHEMAS)[T]>
/** A validated command: a union discriminated on `type`. */
export type Command = {[T in CommandType]: CommandOf<T>}[CommandType]

export type ParseResult =
  | {ok: true; command: Command}
  | {
      ok: false
      code: 'INVALID_JSON' | 'UNKNOWN_COMMAND' | 'INVALID_FIELD'
      message: string
      commandType: string
      taskId?: string
      requestId?: string
      /** the frame's fields as received (unvalidated), so a failure answer can echo what it can */
      fields: Record<string, unknown>
    }

/** Longest message of a refusal: a value echoed in it (a 10 MiB branch name) is cut. */
export const MAX_ERROR_MESSAGE = 1000

export function capMessage(message: string): string {
  return message.length > MAX_ERROR_MESSAGE ? `${message.slice(0, MAX_ERROR_MESSAGE)}… (${message.length} characters)` : message
}

/** Parse one text frame into a validated command, or say exactly what is wrong with it. */
export function parseCommand(frame: string): ParseResult {
  let value: unknown
  try {
    value = JSON.parse(frame)
  } catch (error) {
    return {ok: false, code: 'INVALID_JSON', message: capMessage(`the frame is not JSON: ${(error as Error).message}`), commandType: 'unknown', fields: {}}
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {ok: false, code: 'INVALID_JSON', message: 'the frame must be a JSON object', commandType: 'unknown', fields: {}}
  }
  const obj = value as Record<string, unknown>
  const type = typeof obj.type === 'string' ? obj.type : undefined
  const ids = {
    taskId: typeof obj.taskId === 'string' ? obj.taskId : undefined,
    requestId: typeof obj.requestId === 'string' ? obj.requestId : undefined,
  }
  if (!type || !Object.hasOwn(COMMAND_SCHEMAS, type)) {
    const message = type ? capMessage(`unknown command type "${type}"`) : 'the frame has no "type" (a string naming the command)'
    return {ok: false, code: 'UNKNOWN_COMMAND', message, commandType: type ? capMessage(type) : 'unknown', ...ids, fields: obj}
  }
  const result = COMMAND_SCHEMAS[type as CommandType].safeParse(obj)
  if (!result.success) {
    const issue = result.error.issues[0]
    const field = issue.path.join('.') || '(frame)'
    const missing = issue.code === 'invalid_type' && issue.path.reduce<unknown>((v, k) => (v as Record<PropertyKey, unknown> | undefined)?.[k], obj) === undefined
    const what = missing ? 'is missing' : issue.message
    return {ok: false, code: 'INVALID_FIELD', message: capMessage(`${type}.${field}: ${what}`), commandType: type, ...ids, fields: obj}
  }
  return {ok: true, command: {type, ...(result.data as object)} as Command}
}
