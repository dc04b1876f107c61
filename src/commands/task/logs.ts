import {Flags} from '@oclif/core'

import {TaskCommand} from '../../cli/task-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class TaskLogs extends TaskCommand {
  static override summary = "Print a task's output (a readable transcript; --raw for stream-json)"
  static override examples = [
    '<%= config.bin %> task logs 1a2b',
    '<%= config.bin %> task logs -f 1a2b',
    '<%= config.bin %> task logs --raw 1a2b | jq -c "select(.type==\\"result\\")"',
    '<%= config.bin %> task logs --format markdown 1a2b > comment.md && gh pr comment --body-file comment.md',
  ]
  static override args = {task: taskIdArg}
  static override flags = {
    follow: Flags.boolean({char: 'f', description: 'keep printing new output until the task ends'}),
    raw: Flags.boolean({description: "print Claude Code's stream-json lines as they were recorded"}),
    format: Flags.string({
      description: 'text: the transcript; markdown: the summary (plan, outcome, files, diffstat, cost) and the transcript in a collapsed block, for a PR comment',
      options: ['text', 'markdown'],
      default: 'text',
      exclusive: ['raw', 'follow'],
    }),
  }
  static override enableJsonFlag = false

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(TaskLogs)
    const store = await this.openStore()
    const {reapStaleTasks} = await import('../../lib/tasks/run/stale-runners.js')
    const {isEnded} = await import('../../lib/store/task-record.js')
    const {TaskView, useColor} = await import('../../lib/ui/task-view.js')
    const task = store.tasks.resolve(args.task)
    if (flags.format === 'markdown') {
      const {markdownLogs} = await import('../../cli/ci-output.js')
      process.stdout.write(markdownLogs(task, (after) => store.output.read(task.id, after, 5000)))
      return undefined
    }
    const view = new TaskView({out: process.stdout, color: useColor(process.stdout, process.env), raw: flags.raw, width: process.stdout.columns || undefined})
    let after = 0
    const drain = () => {
      for (;;) {
        const lines = store.output.read(task.id, after, 5000)
        for (const line of lines) view.onStoredLine(line)
        if (lines.length > 0) after = lines.at(-1)!.seq
        if (lines.length < 5000) break
      }
      view.flush()
    }
    drain()
    if (!flags.follow) return undefined
    let stop = false
    process.once('SIGINT', () => (stop = true))
    while (!stop) {
      reapStaleTasks(store)
      const ended = isEnded(store.tasks.require(task.id).state)
      drain()
      if (ended) break
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    return undefined
  }
}
