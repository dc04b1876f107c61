import {git} from './git-runner.js'

/** The branch name of a task: makima/<shortId>-<slug of its name>. */
export function taskBranchName(shortId: string, name: string): string {
  return `makima/${shortId}-${slugify(name)}`
}

export function slugify(text: string, max = 40): string {
  const slug = text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/g, '')
  return slug || 'task'
}

/** Resolve a revision to a commit sha, or undefined when it does not exist. */
export async function resolveCommit(repo: string, rev: string): Promise<string | undefined> {
  if (rev.startsWith('-')) return undefined
  const result = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`], {cwd: repo, allowFailure: true})
  return result.exitCode === 0 ? result.stdout.trim() : undefined
}

/**
 * One of the repository's git directories (`git-dir`, or `git-common-dir`: the same for all its
 * worktrees; absolute) and the commit `rev` resolves to (as resolveCommit: undefined when it does
 * not), in one git command: task spawn and continue-from wait for each command before their checkout.
 */
export async function gitDirAndCommit(repo: string, which: 'git-dir' | 'git-common-dir', rev: string): Promise<{dir: string; sha: string | undefined}> {
  const verify = rev.startsWith('-') ? [] : ['--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]
  const result = await git(['rev-parse', '--path-format=absolute', `--${which}`, ...verify], {cwd: repo, allowFailure: true})
  const [dir = '', sha] = result.stdout.split('\n').map((line) => line.trim())
  return {dir, sha: result.exitCode === 0 && dir && sha ? sha : undefined}
}

/**
 * The repository's default branch: origin's HEAD, else the checked-out branch, else undefined
 * (detached). Both are asked at once (two short git commands; task spawn waits for them).
 */
export async function defaultBranch(repo: string): Promise<string | undefined> {
  const [origin, head] = await Promise.all([
    git(['symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD'], {cwd: repo, allowFailure: true}),
    git(['symbolic-ref', '--quiet', '--short', 'HEAD'], {cwd: repo, allowFailure: true}),
  ])
  if (origin.exitCode === 0 && origin.stdout.trim()) return origin.stdout.trim().replace(/^origin\//, '')
  if (head.exitCode === 0 && head.stdout.trim()) return head.stdout.trim()
  return undefined
}
