import {Args, Flags} from '@oclif/core'

import {readPlan} from '../../cli/plan-input.js'
import {TaskCommand} from '../../cli/task-command.js'
import {queueFlag, specFlags, specFromFlags} from '../../cli/task-flags.js'

export default class TaskSpawn extends TaskCommand {
  static override summary = 'Create a task and run Claude Code on it in its own worktree'
  static override description = `Creates the task, takes a concurrency slot, makes a git worktree on a new branch (makima/<shortId>-<name>) and runs Claude Code there with the plan as its first message.

When every slot is taken (process.maxConcurrentTasks) it exits 4, or with --queue (or process.queueWhenFull) records the task as queued: it starts as soon as a slot frees, first queued first started across every makima process of the machine.

While Claude Code's API rate-limits this machine (a 429 or a usage limit seen in a task's output; \`makima doctor\` shows it) the task is queued, held until the limit resets, then started: attached this command waits, detached a background runner waits for it.

Attached (the default) it shows a readable transcript and returns when the task ends: exit 0 when it completed, 1 when it failed or was interrupted. Ctrl-C interrupts the task (exit 130). With --detach the worktree is made here, Claude Code runs in a background process, and the task id is printed at once; follow it with \`makima task logs -f <id>\`.

In CI (CI set, or output that is not a terminal) the transcript is plain text written line by line, and the run ends with one summary line (state, duration, cost, branch); with GITHUB_STEP_SUMMARY set, a Markdown summary is appended to that file. --output writes the final task object as JSON to a file.`

  static override examples = [
    '<%= config.bin %> task spawn --repo . "Add a --verbose flag to the CLI and document it"',
    '<%= config.bin %> task spawn --repo ~/src/app --detach --name lint "Fix every lint warning"',
    'cat plan.md | <%= config.bin %> task spawn --repo . -',
    '<%= config.bin %> task spawn --json "Write a haiku into haiku.txt"  # no repo: a temp directory',
    '<%= config.bin %> task spawn --repo . --detach --queue "Update the changelog"  # waits for a free slot if needed',
    '<%= config.bin %> task spawn --repo . --output task.json --completion-action pr "Fix the flaky test"  # CI: transcript on stdout, the task in task.json',
  ]

  static override args = {
    plan: Args.string({required: true, description: 'what the task should do; "-" reads it from stdin'}),
  }

  static override flags = {
    ...specFlags,
    ...queueFlag,
    detach: Flags.boolean({description: 'run in the background and print the task id'}),
    output: Flags.string({
      char: 'o',
      description: 'also write the final task object as JSON to this file (stdout keeps the transcript); with --detach, the task as started',
      helpValue: '<file>',
    }),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(TaskSpawn)
    const plan = await readPlan(args.plan, process.stdin)
    const manager = await this.taskManager()
    const spec = specFromFlags(plan, flags)
    // a rate limit holds admission (tasks/rate-hold.ts): the task waits in the queue (--no-queue: refused, exit 4)
    const queue = flags.queue ?? (manager.config.process.queueWhenFull || manager.rateLimitHold() !== null)
    const task = queue ? await manager.admitOrQueue(spec, !flags.detach) : await manager.admit(spec)

    return this.runAdmitted(manager, task, Boolean(flags.detach), flags.output)
  }
}
