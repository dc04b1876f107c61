import {Flags} from '@oclif/core'

import {TaskCommand} from '../../cli/task-command.js'
import {formatAge} from '../../lib/ui/format.js'

export default class TaskList extends TaskCommand {
  static override summary = 'List tasks (active, pending and queued ones, with their place in the queue; --all for finished ones too)'
  static override examples = ['<%= config.bin %> task list', '<%= config.bin %> task list --all --json', '<%= config.bin %> task list --parent 1a2b3c4d', '<%= config.bin %> task list --all --size']
  static override flags = {
    all: Flags.boolean({char: 'a', description: 'include completed, failed and interrupted tasks'}),
    parent: Flags.string({description: 'only the subtasks of this task'}),
    size: Flags.boolean({description: "each worktree's disk use (du of the worktree, not of the shared object store; reads every file: slower)"}),
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(TaskList)
    const config = this.makimaConfig()
    const store = await this.openStore(config)
    const {reapStaleTasks} = await import('../../lib/tasks/run/stale-runners.js')
    reapStaleTasks(store)
    const parentTaskId = flags.parent ? store.tasks.resolve(flags.parent).id : undefined
    const tasks = store.tasks.list({all: flags.all || Boolean(parentTaskId), parentTaskId})
    const {taskJsonList} = await import('../../lib/store/task-json.js')
    const {diskUsage, formatBytes} = await import('../../lib/os/disk-usage.js')
    const sizes = new Map(flags.size ? tasks.map((t) => [t.id, t.worktreePath ? diskUsage(t.worktreePath) : null] as const) : [])
    const objects = taskJsonList(store, tasks).map((t) => (flags.size ? {...t, worktreeBytes: sizes.get(t.id) ?? null} : t))
    if (this.jsonEnabled()) return objects
    if (tasks.length === 0) {
      this.say(flags.all ? 'No tasks.' : 'No active tasks (use --all to include finished ones).')
      return undefined
    }
    const size = (id: string) => {
      const bytes = sizes.get(id)
      return bytes === null || bytes === undefined ? '-' : formatBytes(bytes)
    }
    const {costCell, ESTIMATE_NOTE} = await import('../../lib/ui/usage-format.js')
    const rows = objects.map((t) => [
      t.shortId,
      t.queuePosition ? `queued #${t.queuePosition}` : t.state,
      formatAge(t.createdAt),
      costCell(t.usage),
      t.branch ?? '-',
      ...(flags.size ? [size(t.id)] : []),
      t.name,
    ])
    const header = ['ID', 'STATE', 'AGE', 'COST', 'BRANCH', ...(flags.size ? ['SIZE'] : []), 'NAME']
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)))
    for (const row of [header, ...rows]) this.say(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]))).join('  '))
    if (objects.some((t) => t.usage.costEstimated)) this.say(`~ ${ESTIMATE_NOTE}`)
    return undefined
  }
}
