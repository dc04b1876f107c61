import {Args} from '@oclif/core'

import {readPlan} from '../../cli/plan-input.js'
import {TaskCommand} from '../../cli/task-command.js'
import {limitFlags, resumeAfterLimitFlag, taskIdArg} from '../../cli/task-flags.js'

export default class TaskSend extends TaskCommand {
  static override summary = 'Send a follow-up message to a task'
  static override description = `A running task gets the message on Claude Code's stdin (a paused task is resumed first). A task that has ended but still has its Claude session and worktree is started again with \`claude --resume <session>\` and the message, in the background, and becomes running. Exit 4 when there is no session or worktree to resume.

A task a usage limit of Claude Code ended (failureKind usage_limit) is resumed after the limit resets; before that it is refused with exit 4 saying when it resets, unless --resume-after-limit is given: then the message waits and the task is resumed with it at the reset.

A task stopped by one of its limits (or whose usage has reached one) is resumed only with new limits given here (--timeout, --max-turns, --max-cost); without them it is refused with exit 4 naming the limit. Limits given to a running task count from its next turn on.`

  static override examples = [
    '<%= config.bin %> task send 1a2b "Also add a test for the empty case"',
    'echo "Summarise what you changed" | <%= config.bin %> task send 1a2b -',
    '<%= config.bin %> task send 1a2b --max-cost 2 "Go on with the refactoring"',
  ]

  static override args = {task: taskIdArg, message: Args.string({required: true, description: 'the message; "-" reads it from stdin'})}
  static override flags = {...limitFlags, ...resumeAfterLimitFlag}

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(TaskSend)
    const {limitsFromFlags} = await import('../../lib/tasks/limits/limits.js')
    const limits = limitsFromFlags(flags)
    const message = await readPlan(args.message, process.stdin).catch(() => '')
    const manager = await this.taskManager()
    const {task, resumed} = await manager.send(args.task, message, {limits, resumeAfterLimit: flags['resume-after-limit']})
    if (this.jsonEnabled()) return {taskId: task.id, state: task.state, resumed}
    if (resumed && task.state === 'failed' && task.rateLimitedUntil) {
      this.note(`Task ${task.shortId} resumes with the message when its usage limit resets (${task.rateLimitedUntil}).`)
      return undefined
    }
    this.note(resumed ? `Resumed task ${task.shortId} (session ${task.sessionId}) with the message.` : `Sent to task ${task.shortId}.`)
    return undefined
  }
}
