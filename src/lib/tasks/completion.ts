import type {Config} from '../config/types.js'
import type {Store} from '../store/store.js'
import type {CompletionActionResult, TaskRecord} from '../store/task-record.js'

export interface CompletionContext {
  config: Config
  store: Store
  env: Record<string, string | undefined>
  progress: (message: string) => void
}

/**
 * The completion action of a task that completed (shared/cli.md "Completion actions"). Returns
 * the result to record on the task (null when the action is `none`); never throws — a failed
 * action is a result with ok: false, and the task stays completed.
 */
export async function runCompletionAction(task: TaskRecord, _ctx: CompletionContext): Promise<CompletionActionResult | null> {
  if (task.completionActionKind === 'none') return null
  return {action: task.completionActionKind, ok: false, error: 'completion actions are not implemented yet', url: null}
}
