import {Args} from '@oclif/core'

import {readPlan} from '../../cli/plan-input.js'
import {TaskCommand} from '../../cli/task-command.js'
import {specFlags, specFromFlags} from '../../cli/task-flags.js'

export default class TaskCreate extends TaskCommand {
  static override summary = 'Record a pending task without running it'
  static override description = 'The task is validated and recorded as pending; it holds no concurrency slot until `makima task start <id>`. Prints the task id.'

  static override examples = [
    '<%= config.bin %> task create --repo . --name docs "Document the config keys"',
    'ID=$(<%= config.bin %> task create --repo . "Fix the flaky test") && <%= config.bin %> task start $ID --detach',
  ]
  static override args = {plan: Args.string({required: true, description: 'what the task should do; "-" reads it from stdin'})}
  static override flags = {...specFlags}

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(TaskCreate)
    const plan = await readPlan(args.plan, process.stdin)
    const manager = await this.taskManager()
    const task = await manager.create(specFromFlags(plan, flags))
    if (this.jsonEnabled()) return {taskId: task.id}
    this.say(task.id)
    return undefined
  }
}
