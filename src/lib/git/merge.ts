import {existsSync, readFileSync} from 'node:fs'

import {MakimaError} from '../errors.js'
import {classifyGitError, gitMessage} from './git-error.js'
import {git, gitText} from './git-runner.js'
import {validateBranchName} from './ref-format.js'
import {branchTip, currentBranch, headCommit, resolveCommit} from './refs.js'
import {gitPath} from './repo-dirs.js'

/**
 * Merges inside one worktree, with git as the only state: MERGE_HEAD says a merge is in
 * progress, the index's unmerged entries are the conflicts, MERGE_MSG names the source. Branch
 * names are validated and passed as full refs (refs/heads/<b>), paths come after `--` and are
 * literal pathspecs, so no value can become an option or a glob.
 */

export type MergeStrategy = 'ours' | 'theirs'
export const MERGE_STRATEGIES: readonly MergeStrategy[] = ['ours', 'theirs']

/** Paths after `--` are taken literally (no globs, no magic like `:(top)`). */
const LITERAL = {GIT_LITERAL_PATHSPECS: '1'}

/** The commit being merged (MERGE_HEAD), or undefined when no merge is in progress. */
export async function mergeHead(worktree: string): Promise<string | undefined> {
  return resolveCommit(worktree, 'MERGE_HEAD')
}

/** Is a merge in progress in the worktree (MERGE_HEAD exists)? */
export async function mergeInProgress(worktree: string): Promise<boolean> {
  return (await mergeHead(worktree)) !== undefined
}

/** A merge, cherry-pick or revert that stopped half-way in the worktree (its pseudo-ref exists), or undefined. */
export async function operationInProgress(worktree: string): Promise<'merge' | 'cherry-pick' | 'revert' | undefined> {
  for (const [pseudo, operation] of [
    ['MERGE_HEAD', 'merge'],
    ['CHERRY_PICK_HEAD', 'cherry-pick'],
    ['REVERT_HEAD', 'revert'],
  ] as const) {
    if (await resolveCommit(worktree, pseudo)) return operation
  }
  return undefined
}

interface UnmergedEntry {
  stage: number
  path: string
}

async function unmergedEntries(worktree: string, file?: string): Promise<UnmergedEntry[]> {
  const args = ['ls-files', '--unmerged', '--full-name', '-z']
  if (file !== undefined) args.push('--', file)
  const out = await gitText(args, {cwd: worktree, env: LITERAL})
  const entries: UnmergedEntry[] = []
  for (const record of out.split('\0')) {
    // "<mode> <sha> <stage>\t<path>"
    const tab = record.indexOf('\t')
    if (tab < 0) continue
    const stage = Number(record.slice(0, tab).split(' ')[2])
    entries.push({stage, path: record.slice(tab + 1)})
  }
  return entries
}

/** The files with unresolved conflicts (paths relative to the worktree root), sorted. */
export async function conflictedFiles(worktree: string): Promise<string[]> {
  return [...new Set((await unmergedEntries(worktree)).map((e) => e.path))].sort()
}

/**
 * The branch the merge in progress comes from: the first line of MERGE_MSG ("Merge branch 'x'
 * ..."), else a local branch pointing at MERGE_HEAD, else MERGE_HEAD's sha. Undefined when no
 * merge is in progress.
 */
export async function mergeSourceBranch(worktree: string): Promise<string | undefined> {
  const head = await mergeHead(worktree)
  if (!head) return undefined
  const msgFile = await gitPath(worktree, 'MERGE_MSG')
  if (existsSync(msgFile)) {
    const first = readFileSync(msgFile, 'utf8').split('\n')[0] ?? ''
    const m = /^Merge (?:remote-tracking )?branch '(.+?)'/.exec(first)
    if (m) return m[1]
  }
  const refs = await gitText(['for-each-ref', '--points-at', head, '--format=%(refname)', 'refs/heads/'], {cwd: worktree})
  const first = refs.split('\n').find(Boolean)
  return first ? first.replace(/^refs\/heads\//, '') : head
}

export type MergeOutcome = {kind: 'merged'; commitSha: string; upToDate: boolean} | {kind: 'conflicts'; conflicts: string[]; message: string}

/**
 * Merge local branch `branch` into the worktree's HEAD with a merge commit (--no-ff). Clean: the
 * merge is committed. Conflicts (or a hook that stopped the commit): the merge is left in
 * progress and its conflicted files returned. Throws INVALID_INPUT for a bad name, NOT_FOUND
 * for a missing branch, INVALID_STATE when a merge is already in progress or git refuses because
 * of local changes.
 */
export async function mergeBranch(worktree: string, branch: string, options: {message?: string} = {}): Promise<MergeOutcome> {
  validateBranchName(branch, 'source branch')
  const sourceSha = await branchTip(worktree, branch)
  if (!sourceSha) throw new MakimaError('NOT_FOUND', `source branch "${branch}" does not exist`)
  if (await mergeInProgress(worktree)) {
    const from = await mergeSourceBranch(worktree)
    throw new MakimaError('INVALID_STATE', `a merge is already in progress (from ${from}): resolve and commit, or abort`)
  }
  const into = (await currentBranch(worktree)) ?? 'HEAD'
  const message = options.message ?? `Merge branch '${branch}' into ${into}`
  const before = await headCommit(worktree)
  const r = await git(['merge', '--no-ff', '--no-edit', '-m', message, `refs/heads/${branch}`], {cwd: worktree, allowFailure: true})
  if (r.exitCode === 0) {
    const after = await headCommit(worktree)
    return {kind: 'merged', commitSha: after, upToDate: after === before}
  }
  if (await mergeInProgress(worktree)) {
    const conflicts = await conflictedFiles(worktree)
    const message =
      conflicts.length > 0
        ? `Merge of ${branch} has ${conflicts.length} conflict${conflicts.length === 1 ? '' : 's'}: ${conflicts.join(', ')}`
        : `Merge of ${branch} stopped before its commit: ${gitMessage(r.stderr || r.stdout)}`
    return {kind: 'conflicts', conflicts, message}
  }
  const text = gitMessage(`${r.stderr}\n${r.stdout}`)
  if (classifyGitError(`${r.stderr}\n${r.stdout}`) === 'local-changes') {
    throw new MakimaError('INVALID_STATE', `git refused to merge ${branch}: ${text}`)
  }
  throw new MakimaError('FAILED', `git merge of ${branch} failed: ${text}`)
}

async function requireMerge(worktree: string): Promise<string> {
  const head = await mergeHead(worktree)
  if (!head) throw new MakimaError('INVALID_STATE', 'no merge is in progress')
  return head
}

/**
 * Resolve one conflicted file by taking one side entirely, and stage it. `file` is relative to
 * the worktree root and must already be confined to it (paths.ts confinedPath). When the chosen
 * side deleted the file, it is removed. Throws INVALID_STATE when no merge is in progress or the
 * file is not conflicted.
 */
export async function resolveConflictedFile(worktree: string, file: string, strategy: MergeStrategy): Promise<void> {
  if (!MERGE_STRATEGIES.includes(strategy)) throw new MakimaError('INVALID_INPUT', `invalid strategy "${strategy}": use ours or theirs`)
  await requireMerge(worktree)
  const entries = await unmergedEntries(worktree, file)
  if (entries.length === 0) {
    const all = await conflictedFiles(worktree)
    throw new MakimaError('INVALID_STATE', `"${file}" is not conflicted (conflicted: ${all.length > 0 ? all.join(', ') : 'none'})`)
  }
  const stage = strategy === 'ours' ? 2 : 3
  const opts = {cwd: worktree, env: LITERAL}
  if (entries.some((e) => e.stage === stage)) {
    await git(['checkout', `--${strategy}`, '--', file], opts)
    await git(['add', '--', file], opts)
  } else {
    await git(['rm', '--quiet', '--', file], opts)
  }
}

/** Commit the merge in progress; refuses while conflicts are left. Returns the merge commit's sha. */
export async function commitMerge(worktree: string, message: string): Promise<string> {
  if (typeof message !== 'string' || message.trim() === '') throw new MakimaError('INVALID_INPUT', 'the commit message is empty')
  await requireMerge(worktree)
  const left = await conflictedFiles(worktree)
  if (left.length > 0) {
    throw new MakimaError('INVALID_STATE', `${left.length} conflicted file${left.length === 1 ? ' is' : 's are'} left: ${left.join(', ')}; resolve them first`)
  }
  const r = await git(['commit', '--quiet', '--no-edit', '-m', message], {cwd: worktree, allowFailure: true})
  if (r.exitCode !== 0) throw new MakimaError('FAILED', `git commit of the merge failed: ${gitMessage(`${r.stderr}\n${r.stdout}`)}`)
  return headCommit(worktree)
}

/** Abort the merge in progress (`git merge --abort`): HEAD, index and files as before the merge. */
export async function abortMerge(worktree: string): Promise<void> {
  await requireMerge(worktree)
  const r = await git(['merge', '--abort'], {cwd: worktree, allowFailure: true})
  if (r.exitCode !== 0) throw new MakimaError('FAILED', `git merge --abort failed: ${gitMessage(`${r.stderr}\n${r.stdout}`)}`)
}

export interface BranchTip {
  /** name without refs/heads/ */
  name: string
  sha: string
  subject: string
  /** reachable from `mergedInto` */
  isMerged: boolean
}

/** Local branches under refs/heads/<prefix>, each with its tip and whether it is merged into `mergedInto` (a sha). */
export async function listBranchTips(repo: string, prefix: string, mergedInto: string): Promise<BranchTip[]> {
  const pattern = `refs/heads/${prefix}`
  const all = await gitText(['for-each-ref', '--format=%(refname)%00%(objectname)%00%(subject)', pattern], {cwd: repo})
  const merged = new Set((await gitText(['for-each-ref', `--merged=${mergedInto}`, '--format=%(refname)', pattern], {cwd: repo})).split('\n').filter(Boolean))
  return all
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [ref, sha, subject] = line.split('\0')
      return {name: ref.replace(/^refs\/heads\//, ''), sha, subject: subject ?? '', isMerged: merged.has(ref)}
    })
}
