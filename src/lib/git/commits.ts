import {git, gitText} from './git-runner.js'
import {commitIdentityEnv} from './identity.js'
import {headCommit} from './refs.js'

/**
 * Commits makima makes itself (a checkpoint, the task's work before delivery, a snapshot, a merge
 * commit of the target): each with an identity (commitIdentityEnv), hooks skipped: this is
 * makima saving work, and a hook that fails must not lose it. `unsigned`: never GPG-signed,
 * whatever commit.gpgSign says.
 */
export interface CommitOptions {
  unsigned?: boolean
}

const signing = (options: CommitOptions) => (options.unsigned ? ['--no-gpg-sign'] : [])

/**
 * Commit everything uncommitted in a worktree (tracked changes and untracked files; ignored files
 * excluded) on its current branch. Returns the new commit's sha, or undefined when there was
 * nothing to commit.
 */
export async function commitAll(worktree: string, message: string, options: CommitOptions = {}): Promise<string | undefined> {
  await git(['add', '--all', '--', '.'], {cwd: worktree})
  const staged = await git(['diff', '--cached', '--quiet', '--no-ext-diff'], {cwd: worktree, allowFailure: true})
  if (staged.exitCode === 0) return undefined
  const identity = await commitIdentityEnv(worktree)
  await git(['commit', '--quiet', '--no-verify', ...signing(options), '-m', message], {cwd: worktree, env: identity})
  return headCommit(worktree)
}

/** A commit of `tree` with `parents` (commits), written without touching any branch, index or file. Returns its sha. */
export async function commitTree(repo: string, tree: string, parents: string[], message: string, options: CommitOptions = {}): Promise<string> {
  const identity = await commitIdentityEnv(repo)
  const args = ['commit-tree', ...signing(options), ...parents.flatMap((parent) => ['-p', parent]), '-m', message, tree]
  return gitText(args, {cwd: repo, env: identity})
}
