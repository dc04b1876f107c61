import {gunzipSync, gzipSync} from 'node:zlib'

import {MakimaError} from '../errors.js'
import {gitMessage} from './git-error.js'
import {git} from './git-runner.js'
import {gitDirAndCommit} from './refs.js'
import {withTempIndex} from './temp-index.js'

export interface WorkingTreePatchOptions {
  /** gzip the patch (what checkpoint patches store); default false */
  gzip?: boolean
}

/** Options that make `git diff` output a patch `git apply` takes, whatever the user's diff config. */
const DIFF_OPTIONS = ['--binary', '--full-index', '--no-color', '--no-ext-diff', '--no-textconv', '--src-prefix=a/', '--dst-prefix=b/']

/**
 * The worktree as it is (tracked changes, staged or not, and untracked files; ignored files
 * excluded) as a binary patch against `base` (a commit, default HEAD): `git diff --binary` of a
 * temporary index that holds the working tree (withTempIndex), so the worktree's own index and
 * HEAD never move. Empty Buffer when nothing differs from `base`. Applies with applyPatch on
 * any checkout of `base`.
 */
export async function workingTreePatch(worktree: string, base = 'HEAD', options: WorkingTreePatchOptions = {}): Promise<Buffer> {
  // The worktree's git directory and the base commit in one command (continue-from waits for it).
  const {dir: gitDir, sha: baseSha} = await gitDirAndCommit(worktree, 'git-dir', base)
  if (!baseSha) throw new MakimaError('INVALID_INPUT', `"${base}" is not a commit in ${worktree}`)
  return withTempIndex(
    worktree,
    async (env) => {
      const diff = await git(['diff', '--cached', ...DIFF_OPTIONS, baseSha, '--'], {cwd: worktree, env, binary: true})
      if (diff.stdout.length === 0) return diff.stdout
      return options.gzip ? gzipSync(diff.stdout) : diff.stdout
    },
    gitDir,
  )
}

export interface ApplyPatchOptions {
  /** also stage the result (`git apply --index`); default false: working tree only */
  index?: boolean
}

const isGzip = (data: Buffer) => data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b

/**
 * Apply a patch made by workingTreePatch (or any `git diff --binary`) to a worktree; a gzipped
 * patch is recognised and unpacked. An empty patch is a no-op. git apply refuses paths outside the
 * worktree; a patch that does not apply fails with git's message and changes nothing.
 */
export async function applyPatch(worktree: string, patch: Buffer, options: ApplyPatchOptions = {}): Promise<void> {
  const data = isGzip(patch) ? gunzipSync(patch) : patch
  if (data.length === 0) return
  const args = ['apply', '--binary', '--whitespace=nowarn', ...(options.index ? ['--index'] : []), '-']
  const result = await git(args, {cwd: worktree, input: data, allowFailure: true})
  if (result.exitCode !== 0) {
    throw new MakimaError('FAILED', `the patch does not apply in ${worktree}: ${gitMessage(result.stderr, `exit code ${result.exitCode}`)}`, {details: {stderr: result.stderr}})
  }
}

/** Paths a patch touches (from its `diff --git` headers), for reports. */
export function patchFiles(patch: Buffer): string[] {
  const text = (isGzip(patch) ? gunzipSync(patch) : patch).toString('utf8')
  const files: string[] = []
  for (const match of text.matchAll(/^diff --git a\/(.+?) b\/(.+)$/gm)) files.push(match[2])
  return files
}
