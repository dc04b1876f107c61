import {Flags} from '@oclif/core'

import {TaskCommand, taskExitCode} from '../../cli/task-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class TaskWait extends TaskCommand {
  static override summary = 'Wait until a task ends; exit code as an attached spawn'
  static override description = 'Exit 0 when the task completed, 1 when it failed or was interrupted, 124 when --timeout passes first (the task keeps running). With --json the task object is printed.'
  static override examples = ['<%= config.bin %> task wait 1a2b', '<%= config.bin %> task wait 1a2b --timeout 600 --json']
  static override args = {task: taskIdArg}
  static override flags = {timeout: Flags.integer({min: 0, description: 'give up after this many seconds (exit 124)'})}

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(TaskWait)
    const manager = await this.taskManager()
    const {taskJson} = await import('../../lib/store/task-json.js')
    const task = manager.store.tasks.resolve(args.task)
    let final
    try {
      final = await manager.waitForEnd(task.id, flags.timeout === undefined ? undefined : flags.timeout * 1000)
    } catch (error) {
      if ((error as {code?: string}).code !== 'TIMEOUT') throw error
      const current = manager.store.tasks.require(task.id)
      if (this.jsonEnabled()) this.logJson(taskJson(manager.store, current))
      this.note(`Timed out: task ${current.shortId} is still ${current.state}.`)
      return this.exit(124)
    }
    if (this.jsonEnabled()) this.logJson(taskJson(manager.store, final))
    else this.say(`Task ${final.shortId} ${final.state}${final.error ? `: ${final.error}` : ''}`)
    const code = taskExitCode(final)
    if (code !== 0) this.exit(code)
    return undefined
  }
}
