import {Flags} from '@oclif/core'

import {TaskCommand} from '../../cli/task-command.js'
import {queueFlag, resumeAfterLimitFlag, taskIdArg} from '../../cli/task-flags.js'

export default class TaskStart extends TaskCommand {
  static override summary = 'Run a pending task (takes a concurrency slot)'
  static override description =
    'Attached it behaves like `task spawn` (transcript, exit code of the task, Ctrl-C interrupts). With --detach it prepares the worktree, starts a background runner and returns. Exit 4 when the concurrency cap is full (with --queue, or process.queueWhenFull, the task is queued instead: see task spawn; while a rate limit holds admission it is queued until the reset) or the task is not pending.'

  static override examples = ['<%= config.bin %> task start 1a2b3c4d', '<%= config.bin %> task start 1a2b --detach']
  static override args = {task: taskIdArg}
  static override flags = {detach: Flags.boolean({description: 'run in the background and return at once'}), ...queueFlag, ...resumeAfterLimitFlag}

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(TaskStart)
    const manager = await this.taskManager()
    const pending = manager.store.tasks.resolve(args.task)
    const queue = flags.queue ?? (manager.config.process.queueWhenFull || manager.rateLimitHold() !== null)
    if (flags['resume-after-limit'] !== undefined) manager.store.tasks.update(pending.id, {resumeAfterLimit: flags['resume-after-limit']})
    const task = queue ? manager.acquireOrQueue(pending.id, ['pending'], !flags.detach) : manager.acquire(pending.id, ['pending'])
    return this.runAdmitted(manager, task, Boolean(flags.detach))
  }
}
