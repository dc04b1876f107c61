import {git} from './git-runner.js'
import {branchTip, isAncestor, mergeBase, resolveCommit, resolveTree} from './refs.js'

/**
 * How a branch's work is in its base branch:
 * - `ancestor`: its tip is reachable from the base (a fast-forward or merge commit)
 * - `same-patches`: every commit of it has an equivalent patch (patch id) on the base (a rebase merge)
 * - `same-tree`: merging it into the base would change nothing (a squash merge, or the same change made otherwise)
 */
export type MergedHow = 'ancestor' | 'same-patches' | 'same-tree'

/**
 * Is `branch`'s work in `base` (both local branch names)? Undefined when not, or when either
 * branch does not exist. Reads only; the merge is computed in memory (`git merge-tree`).
 */
export async function branchMergedInto(repo: string, branch: string, base: string): Promise<MergedHow | undefined> {
  const [tip, baseTip] = await Promise.all([branchTip(repo, branch), branchTip(repo, base)])
  if (!tip || !baseTip) return undefined
  if (await isAncestor(repo, tip, baseTip)) return 'ancestor'
  if (!(await mergeBase(repo, baseTip, tip))) return undefined
  // `git cherry`: `-` for a commit whose patch the base has, `+` for one it has not.
  const cherry = await git(['cherry', baseTip, tip], {cwd: repo, allowFailure: true})
  const marks = cherry.stdout.split('\n').filter((line) => line.trim())
  if (cherry.exitCode === 0 && marks.length > 0 && marks.every((line) => line.startsWith('-'))) return 'same-patches'
  const merged = await git(['merge-tree', '--write-tree', '--no-messages', baseTip, tip], {cwd: repo, allowFailure: true})
  const tree = merged.exitCode === 0 ? merged.stdout.split('\n')[0].trim() : undefined
  if (tree && tree === (await resolveTree(repo, baseTip))) return 'same-tree'
  return undefined
}

/** Commits of `branch` the base branch lacks (by reachability), 0 when the branch is gone. */
export async function commitsAhead(repo: string, branch: string, base: string): Promise<number> {
  const [tip, baseTip] = await Promise.all([resolveCommit(repo, `refs/heads/${branch}`), resolveCommit(repo, `refs/heads/${base}`)])
  if (!tip) return 0
  const r = await git(['rev-list', '--count', tip, ...(baseTip ? [`^${baseTip}`] : [])], {cwd: repo, allowFailure: true})
  return r.exitCode === 0 ? Number(r.stdout.trim()) : 0
}
