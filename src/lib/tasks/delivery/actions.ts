import type {Config} from '../../config/types.js'
import {MakimaError} from '../../errors.js'
import {validateBranchName} from '../../git/ref-format.js'
import {resolveTargetRepo} from '../../git/repo-dirs.js'
import type {Store} from '../../store/store.js'
import type {CompletionActionKind, CompletionActionResult, TaskRecord} from '../../store/task-record.js'
import {COMPLETION_ACTIONS} from './action-spec.js'
import {commitTaskWork, mergeTaskBranch, openPullRequest, pullRequestBody, pushTaskBranch, requireRepository, resolveDeliveryTarget} from './delivery.js'

export interface CompletionContext {
  config: Config
  store: Store
  env: Record<string, string | undefined>
  progress: (message: string) => void
}

/** The payload of protocol.md's `completionActionResult` (and `task complete-action --json`). */
export interface CompletionActionPayload {
  success: boolean
  message: string
  prUrl?: string
}

interface Performed {
  result: CompletionActionResult
  message: string
}

/**
 * The completion action of a task that completed (docs/cli.md "Completion actions"). Returns
 * the result to record on the task (null when the action is `none`); never throws — a failed
 * action is a result with ok: false, and the task stays completed.
 */
export async function runCompletionAction(task: TaskRecord, ctx: CompletionContext): Promise<CompletionActionResult | null> {
  if (task.completionActionKind === 'none') return null
  return (await performCompletionAction(task, task.completionActionKind, ctx)).result
}

/**
 * Run a completed task's completion action again (protocol.md `retryCompletionAction`, `makima
 * task complete-action`): `action` / `targetRepo` / `targetBranch` replace the task's own when
 * given and are recorded with the new result. Bad input (a target repository that does not
 * exist, a bad branch name, action `none`) throws INVALID_INPUT and a task that is not completed
 * INVALID_STATE, before anything is done; a failed action is a payload with success: false.
 */
export async function retryCompletionAction(
  idOrPrefix: string,
  options: {action?: string | null; targetRepo?: string | null; targetBranch?: string | null},
  ctx: CompletionContext,
): Promise<CompletionActionPayload> {
  const task = ctx.store.tasks.resolve(idOrPrefix)
  if (task.state !== 'completed') {
    throw new MakimaError('INVALID_STATE', `task ${task.shortId} is ${task.state}; only the completion action of a completed task can be run again`)
  }
  const action = (options.action ?? task.completionActionKind) as CompletionActionKind
  if (!COMPLETION_ACTIONS.includes(action)) throw new MakimaError('INVALID_INPUT', `invalid completion action "${action}": expected branch, merge or pr`)
  if (action === 'none') {
    throw new MakimaError('INVALID_INPUT', `task ${task.shortId} has no completion action: choose one with --action branch|merge|pr`)
  }
  requireRepository(task)
  const targetRepo = options.targetRepo ? await resolveTargetRepo(options.targetRepo) : task.targetRepo
  const targetBranch = options.targetBranch ? validateBranchName(options.targetBranch, 'target branch') : task.targetBranch
  const effective: TaskRecord = {...task, completionActionKind: action, targetRepo, targetBranch}
  const {result, message} = await performCompletionAction(effective, action, ctx)
  ctx.store.tasks.update(task.id, {completionActionKind: action, targetRepo, targetBranch, completionAction: result})
  return {success: result.ok === true, message, ...(result.url ? {prUrl: result.url} : {})}
}

async function performCompletionAction(task: TaskRecord, action: Exclude<CompletionActionKind, 'none'>, ctx: CompletionContext): Promise<Performed> {
  ctx.progress(`Completion action: ${action}`)
  try {
    const target = await resolveDeliveryTarget(task)
    await commitTaskWork(task, ctx)
    switch (action) {
      case 'branch': {
        const message = await pushTaskBranch(task, target, ctx)
        ctx.progress(message)
        return {result: {action, ok: true, error: null, url: null}, message}
      }
      case 'merge': {
        const merged = await mergeTaskBranch(task, target, false, ctx)
        if (!merged.ok) throw new MakimaError('FAILED', merged.message)
        ctx.progress(merged.message)
        return {result: {action, ok: true, error: null, url: null}, message: merged.message}
      }
      case 'pr': {
        const pr = await openPullRequest(task, target, task.name, pullRequestBody(task, taskSummary(ctx.store, task.id)), ctx)
        const message = `${pr.existing ? 'Pull request already open' : 'Pull request created'}: ${pr.url}`
        ctx.progress(message)
        return {result: {action, ok: true, error: null, url: pr.url}, message}
      }
      default:
        throw new MakimaError('INVALID_INPUT', `unknown completion action "${String(action)}"`)
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    ctx.progress(`Completion action ${action} failed: ${message}`)
    return {result: {action, ok: false, error: message, url: null}, message}
  }
}

/** Claude's final answer (the `result` text of the task's last stream-json line), if there is one. */
function taskSummary(store: Store, taskId: string): string | undefined {
  store.output.flush()
  const line = store.output.lastLine(taskId, 'stdout')?.line
  if (!line) return undefined
  try {
    const raw = JSON.parse(line) as {type?: unknown; result?: unknown}
    return raw.type === 'result' && typeof raw.result === 'string' ? raw.result : undefined
  } catch {
    return undefined
  }
}
