import {Flags} from '@oclif/core'

import {TaskCommand} from '../../cli/task-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class TaskCompleteAction extends TaskCommand {
  static override summary = "Run a completed task's completion action again (push its branch, merge it, or open a pull request)"
  static override description = `Retries the completion action of a completed task (exit 4 for a task in any other state), for instance after a merge was refused because the target branch had moved on and you merged it into the task. Uncommitted work in the worktree is committed on the task branch first. --action, --target-repo and --target-branch replace the task's own and are recorded with the new result (see \`task show --json\`: completionAction). Exit 0 when the action succeeded, 1 when it failed. With --json it prints {"success", "message", "prUrl"?}.`

  static override examples = [
    '<%= config.bin %> task complete-action 1a2b',
    '<%= config.bin %> task complete-action 1a2b --action pr --target-branch develop',
    '<%= config.bin %> task complete-action 1a2b --action branch --target-repo ~/src/fork --json',
  ]

  static override args = {task: taskIdArg}
  static override flags = {
    action: Flags.string({options: ['branch', 'merge', 'pr'], description: "the action to run (default: the task's own --completion-action)"}),
    'target-repo': Flags.string({description: "repository to deliver to (default: the task's, else its source repository's origin, else the source repository)"}),
    'target-branch': Flags.string({description: "branch to merge into or open the pull request against (default: the task's target branch, else its base branch)"}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(TaskCompleteAction)
    const manager = await this.taskManager()
    const {store} = manager
    manager.reap()
    const task = store.tasks.resolve(args.task)
    const progress = (message: string) => {
      store.output.push(task.id, 'makima', message)
      store.output.flush()
      this.note(message)
    }
    const {retryCompletionAction} = await import('../../lib/tasks/delivery/actions.js')
    const payload = await retryCompletionAction(
      task.id,
      {action: flags.action, targetRepo: flags['target-repo'], targetBranch: flags['target-branch']},
      {config: manager.config, store, env: process.env, progress},
    )
    if (this.jsonEnabled()) this.logJson(payload)
    else this.say(payload.success ? (payload.prUrl ?? payload.message) : `Failed: ${payload.message}`)
    if (!payload.success) this.exit(1)
    return undefined
  }
}
