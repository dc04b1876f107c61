import {MakimaError} from '../../errors.js'
import {resolveTargetRepo} from '../../git/repo-dirs.js'
import type {CompletionActionKind} from '../../store/task-record.js'

// Apart from tasks/delivery/actions.ts (which runs the actions) so that creating a task does not load the
// delivery code (push, merge, pull requests).

export const COMPLETION_ACTIONS: readonly CompletionActionKind[] = ['none', 'branch', 'merge', 'pr']

/**
 * The completion action and target of a new task (resolveTaskSpec): the action must be one of
 * none|branch|merge|pr and anything but none needs a repository; `--target-repo` must be an
 * existing git repository (returned as its absolute top level). Throws INVALID_INPUT naming the value.
 */
export async function validateCompletionSpec(
  spec: {completionAction?: string | null; targetRepo?: string | null},
  repoPath: string | null,
): Promise<{completionActionKind: CompletionActionKind; targetRepo: string | null}> {
  const action = (spec.completionAction ?? 'none') as CompletionActionKind
  if (!COMPLETION_ACTIONS.includes(action)) throw new MakimaError('INVALID_INPUT', `invalid completion action "${action}": expected none, branch, merge or pr`)
  if (action !== 'none' && !repoPath) {
    throw new MakimaError('INVALID_INPUT', `--completion-action ${action} needs --repo: a task without a repository has no branch to push, merge or open a pull request for`)
  }
  const targetRepo = spec.targetRepo ? await resolveTargetRepo(spec.targetRepo) : null
  return {completionActionKind: action, targetRepo}
}
