import {Args, Flags} from '@oclif/core'

/** Flags and args shared by several task commands. */
export const taskIdArg = Args.string({name: 'task', required: true, description: 'task id (full UUID or a unique prefix of at least 4 hex characters)'})

export const specFlags = {
  name: Flags.string({description: 'a short name for the task (default: the first line of the plan)'}),
  repo: Flags.string({description: 'the git repository to work in (a local path); without it the task gets an empty temp directory'}),
  'base-branch': Flags.string({description: 'branch the worktree starts from (default: the repository default branch)'}),
  parent: Flags.string({description: 'parent task id (the new task is its subtask)'}),
}
