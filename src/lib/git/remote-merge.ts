import {MakimaError} from '../errors.js'
import {commitTree} from './commits.js'
import {deleteRef} from './ref-updates.js'
import {branchTip, isAncestor} from './refs.js'
import {advanceLocalBranch, fetchBranchTip, push, type DeliveryTarget} from './remote.js'
import {withRepoLock} from '../os/repo-lock.js'

export interface TargetMergeOptions {
  /** the task's repository (where its branch lives) */
  repo: string
  /** the task branch (validated) */
  branch: string
  target: DeliveryTarget
  /** one commit with the task's changes instead of a merge commit */
  squash: boolean
  message: string
  /** unique per task: private refs used on the way live under it (and are deleted) */
  scratchRef: string
  locksDir: string
}

export type TargetMergeOutcome =
  {status: 'merged'; commitSha: string; targetSha: string} | {status: 'up-to-date'; commitSha: string} | {status: 'diverged'; targetSha: string} | {status: 'missing-target'}

/**
 * Merge a task branch into the target branch of the target repository without a working tree.
 *
 * The merge is refused (status `diverged`) unless the task branch contains the target branch's
 * tip, so its result is known without merging files: the tree of the task branch. makima writes
 * that commit with `git commit-tree` in the task's repository (parents: the target tip and the
 * task tip for a no-ff merge; the target tip alone for a squash), then moves the target branch in
 * one step: a plain push to a remote (no force; git rejects it when the branch moved meanwhile),
 * or for a repository on this machine a push of the objects to a private ref followed by
 * advanceLocalBranch (compare-and-swap, or a fast-forward of the worktree that has the branch
 * checked out, only when it is clean). No index, working tree or MERGE_HEAD of the target is ever
 * in between states, so a failure leaves the target exactly as it was.
 */
export async function mergeIntoTarget(options: TargetMergeOptions): Promise<TargetMergeOutcome> {
  const {repo, branch, target} = options
  const lockPath = target.localPath ?? repo
  return withRepoLock(options.locksDir, lockPath, async () => {
    const taskTip = await branchTip(repo, branch)
    if (!taskTip) throw new MakimaError('FAILED', `the task branch ${branch} does not exist in ${repo}`)
    const fetched = `${options.scratchRef}/target`
    const incoming = `${options.scratchRef}/incoming`
    try {
      const targetTip = target.sameRepo ? await branchTip(repo, target.branch) : await fetchBranchTip(repo, target.destination, target.branch, fetched)
      if (!targetTip) return {status: 'missing-target'}
      if (await isAncestor(repo, taskTip, targetTip)) return {status: 'up-to-date', commitSha: targetTip}
      if (!(await isAncestor(repo, targetTip, taskTip))) return {status: 'diverged', targetSha: targetTip}

      const parents = options.squash ? [targetTip] : [targetTip, taskTip]
      const commitSha = await commitTree(repo, `${taskTip}^{tree}`, parents, options.message, {unsigned: true})

      if (!target.localPath) {
        await push(repo, target.destination, commitSha, `refs/heads/${target.branch}`)
      } else {
        if (!target.sameRepo) await push(repo, target.destination, commitSha, incoming)
        try {
          await advanceLocalBranch(target.localPath, target.branch, targetTip, commitSha, `makima: merge ${branch}`)
        } finally {
          if (!target.sameRepo) await deleteRef(target.localPath, incoming)
        }
      }
      return {status: 'merged', commitSha, targetSha: targetTip}
    } finally {
      await deleteRef(repo, fetched)
    }
  })
}
