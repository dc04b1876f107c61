import {Flags} from '@oclif/core'

import {TaskCommand} from '../../cli/task-command.js'

export default class TaskPoolFill extends TaskCommand {
  static override summary = "Fill a repository's warm pool of ready worktrees (worktree.warmPool)"
  static override description = `Checks out worktrees of the repository ahead of time, up to worktree.warmPool of them, under worktree.baseDir/.pool, detached at the head of --base (default: the repository's HEAD). A spawn then takes one and moves it to its base commit and new branch, touching only the files that differ, instead of checking out the whole tree. When a task of the repository ends makima starts this command in the background itself; run it by hand to have the pool ready before the first one. Only one fill per repository runs at a time: a second one returns at once. \`task prune --pool\` removes the pool.`
  static override examples = ['<%= config.bin %> task pool-fill --repo ~/src/app', '<%= config.bin %> task pool-fill --repo . --base main --json']
  static override flags = {
    repo: Flags.string({description: 'path of the repository', required: true}),
    base: Flags.string({description: 'branch (or commit) the pooled worktrees are checked out at; default HEAD'}),
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(TaskPoolFill)
    const {MakimaError} = await import('../../lib/errors.js')
    const {resolveLocalRepo} = await import('../../lib/git/repo-dirs.js')
    const {readyWorktrees} = await import('../../lib/git/worktree-pool.js')
    const {poolLocation, refillPool} = await import('../../lib/tasks/workspace/pool.js')
    const {poolWithinBudget} = await import('../../lib/tasks/workspace/disk-policy.js')
    const manager = await this.taskManager()
    const {config} = manager
    if (!(config.worktree.warmPool > 0)) {
      throw new MakimaError('INVALID_INPUT', 'worktree.warmPool is 0, so there is no pool to fill: set it first (makima config set worktree.warmPool 1)')
    }
    const repoPath = await resolveLocalRepo(flags.repo)
    const made = await refillPool(config, repoPath, flags.base ?? 'HEAD', {withinBudget: () => poolWithinBudget(manager)})
    const ready = readyWorktrees(poolLocation(config).root, repoPath).length
    if (this.jsonEnabled()) return {repoPath, made, ready, warmPool: config.worktree.warmPool}
    this.say(`${repoPath}: made ${made} pooled worktree${made === 1 ? '' : 's'}; ${ready} of ${config.worktree.warmPool} ready`)
    return undefined
  }
}
