import {MakimaError} from '../errors.js'
import {gitMessage} from './git-error.js'
import {git, gitText} from './git-runner.js'

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
  const [origin, head] = await Promise.all([git(['symbolic-ref', '--quiet', '--short', 'refs/remotes/origin/HEAD'], {cwd: repo, allowFailure: true}), currentBranch(repo)])
  if (origin.exitCode === 0 && origin.stdout.trim()) return origin.stdout.trim().replace(/^origin\//, '')
  return head
}

/** The commit HEAD of `worktree` points at (throws when there is none). */
export async function headCommit(worktree: string): Promise<string> {
  return gitText(['rev-parse', '--verify', 'HEAD^{commit}'], {cwd: worktree})
}

/** A commit's unique abbreviation (at least `length` hex digits; git's default length without). */
export async function abbreviate(cwd: string, commit: string, length?: number): Promise<string> {
  return gitText(['rev-parse', length === undefined ? '--short' : `--short=${length}`, '--verify', '--end-of-options', commit], {cwd})
}

/** The tree a revision's commit has, or undefined when the revision does not resolve. */
export async function resolveTree(repo: string, rev: string): Promise<string | undefined> {
  if (rev.startsWith('-')) return undefined
  const result = await git(['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{tree}`], {cwd: repo, allowFailure: true})
  return result.exitCode === 0 && result.stdout.trim() ? result.stdout.trim() : undefined
}

/** The branch checked out in a worktree (short name), or undefined when HEAD is detached. */
export async function currentBranch(worktree: string): Promise<string | undefined> {
  const r = await git(['symbolic-ref', '--quiet', 'HEAD'], {cwd: worktree, allowFailure: true})
  const ref = r.stdout.trim()
  return r.exitCode === 0 && ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined
}

/** The commit refs/heads/<branch> points at, or undefined when there is no such branch. */
export async function branchTip(repo: string, branch: string): Promise<string | undefined> {
  return branch.startsWith('-') ? undefined : resolveCommit(repo, `refs/heads/${branch}`)
}

/** Is `commit` an ancestor of (or equal to) `of`? Both are shas or full refs that exist. */
export async function isAncestor(repo: string, commit: string, of: string): Promise<boolean> {
  const r = await git(['merge-base', '--is-ancestor', commit, of], {cwd: repo, allowFailure: true})
  if (r.exitCode > 1) throw new MakimaError('FAILED', `git merge-base failed: ${gitMessage(r.stderr)}`)
  return r.exitCode === 0
}

/** The best common ancestor of two commits, or undefined when their histories share nothing. */
export async function mergeBase(repo: string, a: string, b: string): Promise<string | undefined> {
  const r = await git(['merge-base', a, b], {cwd: repo, allowFailure: true})
  return r.exitCode === 0 && r.stdout.trim() ? r.stdout.trim() : undefined
}

/** The refs under `prefix` (e.g. `refs/heads/`), each with the object it points at. */
export async function refsUnder(repo: string, prefix: string, options: {timeoutMs?: number} = {}): Promise<Array<{ref: string; sha: string}>> {
  const out = await gitText(['for-each-ref', '--format=%(refname)%00%(objectname)', prefix], {cwd: repo, timeoutMs: options.timeoutMs})
  return out
    .split('\n')
    .map((line) => line.split('\0'))
    .filter(([ref, sha]) => ref?.startsWith(prefix) && sha)
    .map(([ref, sha]) => ({ref, sha}))
}
