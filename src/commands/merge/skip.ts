import {Args, Flags} from '@oclif/core'

import {MergeCommand} from '../../cli/merge-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class MergeSkip extends MergeCommand {
  static override summary = "Record that a subtask's branch is deliberately not merged"
  static override description = `merge check then counts the subtask as skipped instead of unmerged. The subtask must be a subtask of the task (exit 2 otherwise, 3 when unknown); skipping it again replaces the reason. With --json: {"taskId", "success", "message"}.`
  static override examples = ['<%= config.bin %> merge skip 1a2b 3c4d --reason "superseded by 5e6f"']
  static override args = {
    task: taskIdArg,
    subtask: Args.string({name: 'subtask', required: true, description: 'the subtask id (full UUID or a unique prefix)'}),
  }
  static override flags = {
    reason: Flags.string({required: true, description: 'why the subtask is not merged'}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(MergeSkip)
    const {merges, store} = await this.merges()
    const result = await merges.skipSubtaskMerge(store, args.task, args.subtask, flags.reason)
    if (this.jsonEnabled()) return result
    this.say(result.message)
    return undefined
  }
}
