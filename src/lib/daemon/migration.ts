import {gunzipSync} from 'node:zlib'

import {MakimaError, toMakimaError} from '../errors.js'
import {resolveCommit} from '../git/refs.js'
import type {TaskRecord} from '../store/task-record.js'
import type {DispatchContext} from './dispatch-context.js'
import {outgoing} from './messages.js'
import type {CommandOf} from './protocol.js'

/**
 * A task that goes on on this daemon after another daemon drained or died (docs/fleet.md): the
 * server sends `spawnTask` with the last checkpoint patch it had (`patchData`, `patchBaseSha`),
 * `resumeSession: true` and maybe `conversationHistory`, for a task this daemon has never seen.
 * The dispatcher makes the worktree at patchBaseSha, applies the patch and runs Claude Code on it;
 * this file decodes and checks the patch, writes the first message, and makes sure a refused
 * move ends the task for the server too.
 */
type SpawnTask = CommandOf<'spawnTask'>

/** Largest patch after gunzip (a checkpoint patch is at most 10 MiB compressed by default). */
const MAX_PATCH_BYTES = 512 * 1024 * 1024

const isGzip = (data: Buffer) => data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b

/**
 * spawnTask.patchData decoded (protocol.md "Checkpoint patches": base64 of the gzip of `git diff
 * --binary`): strict base64, a gzip stream that inflates, and a git diff (or nothing). Returns the
 * unzipped patch; INVALID_INPUT naming the field otherwise. An uncompressed diff is accepted too.
 */
export function decodeCheckpointPatch(patchData: string): Buffer {
  const compact = patchData.replace(/\s+/g, '')
  if (compact.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) {
    throw new MakimaError(
      'INVALID_INPUT',
      `spawnTask.patchData does not decode: it is not base64 (${compact.length} characters${compact.length % 4 === 0 ? ', misplaced "="' : ', not a multiple of 4'})`,
    )
  }
  const bytes = Buffer.from(compact, 'base64')
  let patch = bytes
  if (isGzip(bytes)) {
    try {
      patch = gunzipSync(bytes, {maxOutputLength: MAX_PATCH_BYTES})
    } catch (error) {
      throw new MakimaError('INVALID_INPUT', `spawnTask.patchData does not decode: its gzip data is damaged or larger than ${MAX_PATCH_BYTES} bytes (${(error as Error).message})`)
    }
  }
  if (patch.length > 0 && !/^diff --git /m.test(patch.subarray(0, 64 * 1024).toString('latin1'))) {
    throw new MakimaError(
      'INVALID_INPUT',
      `spawnTask.patchData does not decode to a git patch: ${bytes.length} bytes${isGzip(bytes) ? ' of gzip' : ' (not gzip)'} with no "diff --git" header; send base64 of the gzip of \`git diff --binary <patchBaseSha>\``,
    )
  }
  return patch
}

/**
 * The checkpoint fields of a spawnTask checked before anything is made: patchBaseSha is a sha,
 * patchData comes with it and decodes. Returns the unzipped patch (undefined
 * without patchData). INVALID_INPUT naming the field otherwise.
 */
export function checkpointPatchOf(cmd: SpawnTask): Buffer | undefined {
  if (cmd.patchBaseSha !== undefined && !/^[0-9a-f]{7,64}$/.test(cmd.patchBaseSha)) {
    throw new MakimaError('INVALID_INPUT', `spawnTask.patchBaseSha: must be a commit sha (7 to 64 lowercase hex digits), not ${JSON.stringify(cmd.patchBaseSha.slice(0, 80))}`)
  }
  if (cmd.patchData === undefined) return undefined
  if (cmd.patchBaseSha === undefined) throw new MakimaError('INVALID_INPUT', 'spawnTask.patchData needs patchBaseSha (the commit the patch was taken against)')
  return decodeCheckpointPatch(cmd.patchData)
}

/**
 * patchBaseSha must be a commit of the task's repository (the clone this daemon made or fetched
 * for repoUrl) before a worktree is made for it. Returns the full sha. When it is not there, the
 * task is ended as failed (taskComplete success: false) and INVALID_INPUT names the field.
 */
export async function requirePatchBase(ctx: DispatchContext, task: TaskRecord, patchBaseSha: string): Promise<string> {
  const base = task.repoPath ? await resolveCommit(task.repoPath, patchBaseSha) : undefined
  if (base) return base
  const error = new MakimaError(
    'INVALID_INPUT',
    `spawnTask.patchBaseSha ${patchBaseSha} is not a commit of ${task.repoSource ?? task.repoPath ?? 'the task repository'} (fetched into ${task.repoPath}): the patch cannot be applied here`,
  )
  ctx.manager.finish(task.id, 'failed', {error: `restoring the checkpoint patch failed: ${error.message}`})
  throw error
}

/** How much of conversationHistory goes into the first message (~50k tokens): the most recent part. */
export const MAX_HISTORY_CHARS = 200_000

/**
 * The earlier conversation as text for the first message, at most `max` characters: a string as
 * it is, a list entry by entry (JSON, one an entry), anything else as indented JSON. When it is
 * longer, the oldest part is left out (said in a line first): the end of a conversation is what
 * the next step depends on, and the whole of a long one would not fit Claude's context.
 */
export function historyText(history: unknown, max = MAX_HISTORY_CHARS): string {
  if (Array.isArray(history)) {
    const kept: string[] = []
    let size = 0
    for (let i = history.length - 1; i >= 0; i--) {
      const entry = typeof history[i] === 'string' ? (history[i] as string) : JSON.stringify(history[i])
      if (size + entry.length + 1 > max && kept.length > 0) break
      kept.unshift(entry.length > max ? `${entry.slice(0, max)} [cut]` : entry)
      size += entry.length + 1
    }
    const left = history.length - kept.length
    return `${left > 0 ? `[the ${left} earliest of ${history.length} entries are left out]\n` : ''}${kept.join('\n')}`
  }
  const text = typeof history === 'string' ? history : JSON.stringify(history, null, 2)
  return text.length <= max ? text : `[the first ${text.length - max} characters are left out]\n${text.slice(-max)}`
}

const WORK_SO_FAR = `The work done so far is already in this worktree, as the previous run left it (changed and new files, not committed): look at it first (\`git status\`, \`git diff\`), keep what is right, and continue from there instead of starting over.`

/**
 * The first message of a task this daemon has never seen. Claude Code resumes a session from its
 * transcript file (~/.claude/projects/<worktree path>/<session id>.jsonl), which stayed on the old
 * machine; forging one here would mean writing Claude Code's internal, version-dependent transcript
 * format (message uuids and parent links, tool-use ids, the old worktree path). So the session is
 * not resumed: a new one starts, and what the server kept of the conversation
 * (`conversationHistory`) is given as context in the first user message, before the plan, where
 * the model reads it as what happened so far (the system prompt stays the task's role). Without a
 * history, a move (resumeSession with a patch) gets the plan plus a note that the work so far is
 * in the worktree; any other spawn gets the plan as it is.
 */
export function firstMessageOf(cmd: SpawnTask): string {
  const moved = cmd.resumeSession && cmd.patchData !== undefined
  if (cmd.conversationHistory === undefined) {
    return moved ? `This task was started before on another machine and has moved here; its conversation could not come along. ${WORK_SO_FAR}\n\nThe task:\n\n${cmd.plan}` : cmd.plan
  }
  return `This task was started before and its session could not be resumed here. The conversation so far:

<conversation-history>
${historyText(cmd.conversationHistory)}
</conversation-history>
${cmd.patchData !== undefined ? `\n${WORK_SO_FAR}\n` : ''}
Continue from where it left off, with this task:

${cmd.plan}`
}

/**
 * Runs a spawnTask that carries a checkpoint patch (a task moving here): when it is refused for
 * bad input (a patch that does not decode or apply, a base the repository lacks, a missing field)
 * and the task was not ended on the way, taskComplete success: false is sent before the
 * commandError, so the server, which took the task off the old daemon, is not left waiting.
 */
export async function answerRefusedMove<T>(cmd: SpawnTask, ctx: DispatchContext, spawn: () => Promise<T>): Promise<T> {
  if (cmd.patchData === undefined && cmd.patchBaseSha === undefined) return spawn()
  let ended = false
  const off = ctx.manager.onEvent((event) => {
    if (event.type === 'complete' && event.taskId === cmd.taskId) ended = true
  })
  try {
    return await spawn()
  } catch (error) {
    const err = toMakimaError(error)
    if (!ended && err.code === 'INVALID_INPUT') ctx.send(outgoing('taskComplete', {taskId: cmd.taskId, success: false, error: `the task could not move here: ${err.message}`}, cmd.taskId))
    throw error
  } finally {
    off()
  }
}
