import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, realpathSync, renameSync, rmSync} from 'node:fs'
import path from 'node:path'

import {MakimaError} from '../errors.js'
import {classifyGitError, gitMessage} from './git-error.js'
import {git} from './git-runner.js'
import {inheritGitConfig} from './identity.js'
import {updateRef} from './ref-updates.js'
import {isAncestor, refsUnder, slugify} from './refs.js'
import {gitDirs, resolveLocalRepo} from './repo-dirs.js'
import {withRepoLock} from '../os/repo-lock.js'
import {checkedOutBranches} from './worktree-list.js'

/** Where repository sources are kept: the clone cache (`worktree.reposDir`) and the lock dir. */
export interface RepoSourceContext {
  reposDir: string
  locksDir: string
  /** expands `~` in local paths (config/load.ts expandHome) */
  expandHome?: (p: string) => string
}

export type RepoSourceKind = 'local' | 'url' | 'new'

export interface ResolvedRepoSource {
  kind: RepoSourceKind
  /** the local repository worktrees are made from (the path, the cached clone, or the new repository) */
  repoPath: string
}

const URL_SCHEMES = /^(https?|ssh|file):\/\//i
const SCP_FORM = /^git@([^:/\s]+):(.+)$/
const NEW_PREFIX = 'new://'

/** Does the source name a remote repository (https://, http://, ssh://, file://, git@host:path)? */
export function isRepoUrl(source: string): boolean {
  return URL_SCHEMES.test(source) || SCP_FORM.test(source)
}

/** local path, URL or new://name */
export function repoSourceKind(source: string): RepoSourceKind {
  if (source.startsWith(NEW_PREFIX)) return 'new'
  return isRepoUrl(source) ? 'url' : 'local'
}

/**
 * A repository URL given from outside, checked before git sees it: no leading `-`, no whitespace
 * or control characters, one of the supported forms, and a host that cannot be read as an option.
 */
export function validateRepoUrl(url: string): string {
  const bad = (why: string) => new MakimaError('INVALID_INPUT', `invalid repository URL ${JSON.stringify(url)}: ${why}`)
  if (url.startsWith('-')) throw bad('it may not start with "-"')
  // eslint-disable-next-line no-control-regex
  if (/[\s\0-\x1f\x7f]/.test(url)) throw bad('whitespace or control characters')
  const scp = SCP_FORM.exec(url)
  if (scp) {
    if (!/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(scp[1])) throw bad(`invalid host "${scp[1]}"`)
    return url
  }
  if (!URL_SCHEMES.test(url)) throw bad('expected https://, ssh://, file:// or git@host:path')
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw bad('not a URL')
  }
  if (parsed.protocol === 'file:') {
    if (parsed.pathname === '' || parsed.pathname === '/') throw bad('no path')
  } else if (!parsed.hostname || parsed.hostname.startsWith('-')) {
    throw bad('no host, or a host starting with "-"')
  }
  return url
}

/** The cache directory of a URL: <reposDir>/<readable name>-<short hash of the URL>. */
export function cloneDirFor(url: string, reposDir: string): string {
  const last =
    url
      .replace(/[/\\]+$/, '')
      .split(/[/:\\]/)
      .pop() ?? ''
  const readable = slugify(last.replace(/\.git$/i, ''), 40)
  const hash = createHash('sha256').update(url).digest('hex').slice(0, 10)
  return path.join(reposDir, `${readable}-${hash}`)
}

/** The directory of new://<name>: <reposDir>/new/<name>, the name checked first. */
export function newRepoDirFor(name: string, reposDir: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name.includes('..') || name.startsWith('-') || name === '.') {
    throw new MakimaError('INVALID_INPUT', `invalid repository name ${JSON.stringify(`${NEW_PREFIX}${name}`)}: use letters, digits, ".", "_" and "-" (no "..", no leading "-")`)
  }
  return path.join(reposDir, 'new', name)
}

/**
 * Resolve a --repo value to a local repository: a path (must exist and be a git repository; `~`
 * expanded), a URL (cloned once into the cache, fetched on reuse) or new://<name> (created with
 * an initial commit on first use, reused after).
 */
export async function resolveRepoSource(source: string, ctx: RepoSourceContext): Promise<ResolvedRepoSource> {
  const kind = repoSourceKind(source)
  if (kind === 'new') return {kind, repoPath: await ensureNewRepo(source.slice(NEW_PREFIX.length), ctx)}
  if (kind === 'url') return {kind, repoPath: await ensureClone(source, ctx)}
  if (source.startsWith('-')) throw new MakimaError('INVALID_INPUT', `invalid repository path "${source}": it may not start with "-"`)
  return {kind, repoPath: await resolveLocalRepo(ctx.expandHome ? ctx.expandHome(source) : source)}
}

/** reposDir made and resolved (symlinks), so lock keys and paths are the ones git reports. */
function realReposDir(reposDir: string): string {
  mkdirSync(reposDir, {recursive: true, mode: 0o700})
  return realpathSync(reposDir)
}

/**
 * A scratch path next to `dir` for building it before it is renamed into place. Called under the
 * lock of `dir`, so scratch dirs left by a process that died mid-clone are removed here.
 */
function partialPathFor(dir: string): string {
  const prefix = `.${path.basename(dir)}.partial-`
  for (const entry of readdirSync(path.dirname(dir))) {
    if (entry.startsWith(prefix)) rmSync(path.join(path.dirname(dir), entry), {recursive: true, force: true})
  }
  return path.join(path.dirname(dir), `${prefix}${process.pid}-${Date.now()}`)
}

/** Is `dir` the top of a repository of its own (its git directory is `dir/.git`)? */
async function isRepository(dir: string): Promise<boolean> {
  if (!existsSync(dir)) return false
  const dirs = await gitDirs(dir)
  return dirs !== undefined && realpathSync(path.dirname(dirs.gitDir)) === realpathSync(dir)
}

/**
 * The cached clone of `url` (cloned on first use, `git fetch --prune origin` on reuse), under the
 * lock of its cache directory so two spawns never clone twice. A failed clone leaves nothing
 * behind: it is made in a scratch directory and renamed into place only when complete. Errors:
 * INVALID_INPUT for a bad URL or a repository git says does not exist, FAILED otherwise (network,
 * authentication), each with git's message.
 */
export async function ensureClone(url: string, ctx: RepoSourceContext): Promise<string> {
  validateRepoUrl(url)
  const dir = cloneDirFor(url, realReposDir(ctx.reposDir))
  return withRepoLock(ctx.locksDir, dir, async () => {
    if (existsSync(dir) && !(await isRepository(dir))) rmSync(dir, {recursive: true, force: true})
    if (existsSync(dir)) {
      const origin = await git(['config', '--get', 'remote.origin.url'], {cwd: dir, allowFailure: true})
      if (origin.stdout.trim() !== url) {
        throw new MakimaError('INVALID_STATE', `the cached clone ${dir} belongs to ${origin.stdout.trim() || 'no remote'}, not ${url}; remove it`)
      }
      const fetched = await git(['fetch', '--prune', '--quiet', 'origin'], {cwd: dir, allowFailure: true})
      if (fetched.exitCode !== 0) throw new MakimaError('FAILED', `could not fetch ${url} into ${dir}: ${gitMessage(fetched.stderr)}`)
    } else {
      const partial = partialPathFor(dir)
      try {
        const cloned = await git(['clone', '--quiet', '--', url, partial], {cwd: path.dirname(dir), allowFailure: true})
        if (cloned.exitCode !== 0) {
          const code = classifyGitError(cloned.stderr) === 'missing-repository' ? 'INVALID_INPUT' : 'FAILED'
          throw new MakimaError(code, `could not clone ${url}: ${gitMessage(cloned.stderr)}`, {details: {stderr: cloned.stderr}})
        }
        // Detach the clone's own HEAD so no branch is checked out here and each can follow origin.
        await git(['checkout', '--quiet', '--detach'], {cwd: partial, allowFailure: true})
        renameSync(partial, dir)
      } finally {
        rmSync(partial, {recursive: true, force: true})
      }
    }
    await followOrigin(dir)
    return dir
  })
}

/**
 * Bring local branches in line with origin after a clone or fetch: a branch origin has and this
 * clone lacks is created; one that is behind is fast-forwarded. Branches that diverged or are
 * checked out in a worktree (task branches) are left alone.
 */
async function followOrigin(dir: string): Promise<void> {
  const remote = await refsUnder(dir, 'refs/remotes/origin/')
  const local = new Map((await refsUnder(dir, 'refs/heads/')).map(({ref, sha}) => [ref.slice('refs/heads/'.length), sha]))
  const checkedOut = await checkedOutBranches(dir)
  for (const {ref, sha} of remote) {
    const name = ref.slice('refs/remotes/origin/'.length)
    if (name === 'HEAD' || checkedOut.has(name)) continue
    const current = local.get(name)
    if (current === sha) continue
    if (current && !(await isAncestor(dir, current, sha).catch(() => false))) continue
    await updateRef(dir, `refs/heads/${name}`, sha, {oldSha: current ?? ''}).catch(() => undefined)
  }
}

/**
 * The repository of new://<name> in <reposDir>/new/<name>: created on first use (`git init` on
 * `main` with an empty initial commit, committed with the inherited identity), reused after.
 */
export async function ensureNewRepo(name: string, ctx: RepoSourceContext): Promise<string> {
  const dir = newRepoDirFor(name, path.join(realReposDir(ctx.reposDir)))
  mkdirSync(path.dirname(dir), {recursive: true, mode: 0o700})
  return withRepoLock(ctx.locksDir, dir, async () => {
    if (await isRepository(dir)) return dir
    if (existsSync(dir)) throw new MakimaError('INVALID_STATE', `${dir} exists and is not a git repository; remove it or choose another name`)
    const partial = partialPathFor(dir)
    try {
      await git(['init', '--quiet', '--initial-branch=main', '--', partial], {cwd: path.dirname(dir)})
      await inheritGitConfig(partial)
      await git(['commit', '--quiet', '--allow-empty', '--no-verify', '-m', 'Initial commit'], {cwd: partial})
      renameSync(partial, dir)
      return dir
    } finally {
      rmSync(partial, {recursive: true, force: true})
    }
  })
}
