import {git} from './git-runner.js'

/** One worktree of a repository, as `git worktree list` reports it. */
export interface ListedWorktree {
  /** absolute, as git has it registered */
  path: string
  /** the commit its HEAD is at ('' for a bare repository; all zeros for an unborn branch) */
  head: string
  /** the branch checked out (short name), or undefined: detached or bare */
  branch: string | undefined
  bare: boolean
  /** git says its directory is gone (`git worktree prune` would drop it) */
  prunable: boolean
  locked: boolean
}

/**
 * The worktrees of `repo` (the main one first): `git worktree list --porcelain -z` parsed, so no
 * path (a newline in it included) is misread. The one parser of that list.
 */
export async function listWorktrees(repo: string, options: {timeoutMs?: number} = {}): Promise<ListedWorktree[]> {
  const {stdout} = await git(['worktree', 'list', '--porcelain', '-z'], {cwd: repo, timeoutMs: options.timeoutMs})
  const list: ListedWorktree[] = []
  let current: ListedWorktree | undefined
  for (const field of stdout.split('\0')) {
    if (field.startsWith('worktree ')) {
      current = {path: field.slice('worktree '.length), head: '', branch: undefined, bare: false, prunable: false, locked: false}
      list.push(current)
    } else if (!current) continue
    else if (field.startsWith('HEAD ')) current.head = field.slice('HEAD '.length)
    else if (field.startsWith('branch refs/heads/')) current.branch = field.slice('branch refs/heads/'.length)
    else if (field === 'bare') current.bare = true
    else if (field === 'prunable' || field.startsWith('prunable ')) current.prunable = true
    else if (field === 'locked' || field.startsWith('locked ')) current.locked = true
    else if (field === '') current = undefined
  }
  return list
}

/** The worktrees of `repo` that have refs/heads/<branch> checked out. */
export async function worktreesOnBranch(repo: string, branch: string): Promise<string[]> {
  return (await listWorktrees(repo)).filter((w) => w.branch === branch).map((w) => w.path)
}

/** The branches (short names) checked out in any worktree of `repo`. */
export async function checkedOutBranches(repo: string): Promise<Set<string>> {
  return new Set((await listWorktrees(repo)).flatMap((w) => (w.branch === undefined ? [] : [w.branch])))
}
