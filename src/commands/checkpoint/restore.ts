import {Args, Flags} from '@oclif/core'

import {TaskCommand} from '../../cli/task-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class CheckpointRestore extends TaskCommand {
  static override summary = 'Restore a checkpoint of a task into a new worktree'
  static override description = `Creates <dir> as a new worktree of the task's repository holding snapshot <number> (see checkpoint list): a detached worktree at the snapshot's base commit with its stored patch applied (git apply --binary), so the files are byte-identical to the snapshot and show as uncommitted work; a snapshot stored without patch is restored from its side ref. --commit restores commit checkpoint <number> instead (a worktree at that commit). <dir> may start with ~; an existing non-empty <dir> is refused (exit 4). --branch creates a branch for the new worktree instead of a detached HEAD.`
  static override examples = ['<%= config.bin %> checkpoint restore 1a2b 2 ~/restored', '<%= config.bin %> checkpoint restore 1a2b 1 /tmp/at-commit --commit']
  static override args = {
    task: taskIdArg,
    number: Args.integer({name: 'number', required: true, min: 1, description: 'the checkpoint number (checkpoint list)'}),
    dir: Args.string({name: 'dir', required: true, description: 'the new worktree directory (must not exist or be empty)'}),
  }
  static override flags = {
    commit: Flags.boolean({description: 'restore commit checkpoint <number> instead of snapshot <number>'}),
    branch: Flags.string({description: 'create this branch for the new worktree (default: detached HEAD)'}),
  }

  async run(): Promise<unknown> {
    const {args, flags} = await this.parse(CheckpointRestore)
    const config = this.makimaConfig()
    const store = await this.openStore(config)
    const {userDirectory} = await import('../../lib/paths.js')
    const {restoreCheckpoint} = await import('../../lib/tasks/checkpoints/restore.js')
    const task = store.tasks.resolve(args.task)
    const result = await restoreCheckpoint(store, config, task, args.number, userDirectory(args.dir), {
      kind: flags.commit ? 'commit' : 'snapshot',
      branch: flags.branch,
    })
    if (this.jsonEnabled()) return result
    this.say(result.message)
    return undefined
  }
}
