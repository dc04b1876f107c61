import {Flags} from '@oclif/core'

import {TaskCommand} from '../../cli/task-command.js'

export default class TaskPrune extends TaskCommand {
  static override summary = 'Remove the worktrees of ended tasks that match (uncommitted work is kept as a snapshot first)'
  static override description = `Looks at ended tasks with a repository (completed, failed, interrupted; never a running or paused one) and removes the worktrees of those matching every filter given, as \`task cleanup\` does: uncommitted or untracked work is first stored as a final snapshot and the command prints how to restore it; the task's teardown command runs first. --merged keeps only tasks whose branch is in its base branch: reachable from it, every commit's patch already there (a rebase merge), or merging it would change nothing (a squash merge). With --delete-branch the branches go too, but only merged ones: commits not in the base stay on their branch. --dry-run lists what would go and why. Broken worktrees of the warm pool (worktree.warmPool: made ahead of time under worktree.baseDir/.pool, whose maker stopped before they were ready) always go; --pool removes the whole pool (made again when the next task ends while worktree.warmPool is set); alone it prunes no task: add a filter (e.g. --state completed,failed,interrupted) to prune tasks too.`
  static override examples = [
    '<%= config.bin %> task prune --merged --dry-run',
    '<%= config.bin %> task prune --merged --delete-branch',
    '<%= config.bin %> task prune --older-than 7d --state completed,failed',
    '<%= config.bin %> task prune --older-than 12h --json',
    '<%= config.bin %> task prune --pool',
  ]
  static override flags = {
    merged: Flags.boolean({description: 'only tasks whose branch is merged into its base branch (also after a squash or rebase merge)'}),
    'older-than': Flags.string({description: 'only tasks that ended longer ago than this (30m, 12h, 7d, 2w)'}),
    state: Flags.string({description: 'only tasks in these ended states (comma-separated: completed,failed,interrupted)'}),
    'delete-branch': Flags.boolean({description: 'also delete the task branches that are merged'}),
    'dry-run': Flags.boolean({description: 'list what would be removed and why, remove nothing'}),
    pool: Flags.boolean({description: 'remove the warm pool of ready worktrees (worktree.warmPool) of every repository; alone, no task is pruned'}),
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(TaskPrune)
    const {parseDuration, parseEndedStates, pruneTasks} = await import('../../lib/tasks/workspace/prune.js')
    const olderThanMs = flags['older-than'] === undefined ? undefined : parseDuration(flags['older-than'])
    const states = flags.state === undefined ? undefined : parseEndedStates(flags.state)
    const manager = await this.taskManager()
    const result = await pruneTasks(manager, {merged: flags.merged, olderThanMs, states, deleteBranch: flags['delete-branch'], dryRun: flags['dry-run'], pool: flags.pool})
    if (this.jsonEnabled()) return result
    if (result.pruned.length === 0 && result.pool.length === 0) {
      this.say('Nothing to prune.')
      return undefined
    }
    for (const {repoPath, dir} of result.pool) this.say(`${result.dryRun ? 'would remove' : 'removed'} pooled worktree ${dir} (of ${repoPath})`)
    for (const entry of result.pruned) {
      const what = entry.worktreePath ?? `branch ${entry.branch}`
      const onBranch = entry.unmergedCommits > 0 ? `${entry.unmergedCommits} commit(s) not in the base stay on ${entry.branch}` : ''
      if (result.dryRun) {
        const kept = [entry.uncommitted ? 'uncommitted work would be kept as a final snapshot' : '', onBranch].filter(Boolean).join('; ')
        this.say(`would remove ${entry.shortId} ${what} (${entry.reasons.join(', ')})${kept ? `; ${kept}` : ''}`)
      } else this.say(`${entry.shortId}: ${entry.result?.message ?? 'removed'}${onBranch ? `; ${onBranch}` : ''}`)
    }
    return undefined
  }
}
