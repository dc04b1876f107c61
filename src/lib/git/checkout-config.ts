import {availableParallelism} from 'node:os'

import {git} from './git-runner.js'

/** Claude Code's own `--worktree` uses at most this many checkout workers. */
const MAX_CHECKOUT_WORKERS = 16

/**
 * The `-c` options of a git command that checks out a whole tree (`worktree add`, the warm pool's
 * `reset --hard`, a pooled worktree's `checkout`): parallel checkout, one worker a CPU (at most
 * 16), as Claude Code's own `--worktree` has done since 2.1.265, unless the repository or the
 * user configured checkout.workers (their value is kept). git starts workers only for a checkout
 * of 100 files or more (checkout.thresholdForParallelism).
 *
 * Measured on the bench's 20,000-file repository, 2 CPUs (bench/README.md): on this machine's
 * disk (ext4 without a journal), where creating a file after thousands were deleted costs ~0.6 ms
 * of kernel CPU (the allocator skips recently freed inodes), a checkout takes a third of the time
 * with 2 workers (2-13 s against 11-46 s); on the disk with no recent deletions or in a tmpfs it
 * is no faster and costs ~60% more CPU (the workers receive every blob through a pipe). Nothing
 * else was kept: index v4 (feature.manyFiles), the untracked cache and index.threads changed
 * neither the checkout nor the first `git status` after it.
 */
export async function checkoutConfig(repoPath: string): Promise<string[]> {
  const configured = await git(['config', '--get', 'checkout.workers'], {cwd: repoPath, allowFailure: true})
  if (configured.exitCode === 0) return []
  return ['-c', `checkout.workers=${Math.min(MAX_CHECKOUT_WORKERS, availableParallelism())}`]
}
