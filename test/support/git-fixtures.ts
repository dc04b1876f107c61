// Real git repositories for tests: a working repository on `main` with an initial commit,
// optionally with a bare repository as `origin`.
import {execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {afterEach} from 'vitest'

/**
 * The environment git helpers use when none is given: the parent's minus GIT_* variables, no
 * system or global config, and the test identity set through GIT_AUTHOR_* / GIT_COMMITTER_*.
 */
export function isolatedGitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('GIT_')) env[k] = v
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'makima test',
    GIT_AUTHOR_EMAIL: 'test@makima.invalid',
    GIT_COMMITTER_NAME: 'makima test',
    GIT_COMMITTER_EMAIL: 'test@makima.invalid',
  }
}

/** Runs git in cwd with the given environment and returns stdout trimmed; throws with stderr on failure. */
export function gitWithEnv(env: NodeJS.ProcessEnv, cwd: string, ...args: string[]): string {
  try {
    return execFileSync('git', args, {cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']}).trim()
  } catch (error) {
    const e = error as {stderr?: string; status?: number}
    throw new Error(`git ${args.join(' ')} (in ${cwd}) failed with ${e.status}: ${e.stderr ?? String(error)}`)
  }
}

/** Runs git in cwd (isolatedGitEnv) and returns stdout trimmed. */
export function git(cwd: string, ...args: string[]): string {
  return gitWithEnv(isolatedGitEnv(), cwd, ...args)
}

export interface MakeRepoOptions {
  /** path -> content of the initial commit; default {'README.md': '# test repo\n'}. */
  files?: Record<string, string>
  /** Also create a bare repository, add it as `origin` and push main to it. */
  bare?: boolean
  /** Environment for git (e.g. testEnv().env); default isolatedGitEnv(). */
  env?: NodeJS.ProcessEnv
  /** Directory name of the repository under root; default a fresh `repo-XXXXXX`. */
  name?: string
}

export interface Repo {
  /** The working repository. */
  dir: string
  /** The bare origin, when `bare` was asked for. */
  remote?: string
  /** Commit id of the initial commit. */
  head: string
  /** git in this repository with the repo's environment. */
  git(...args: string[]): string
}

/** Creates a git repository under root (a temp dir, e.g. testEnv().root) with one commit on main. */
export function makeRepo(root: string, opts: MakeRepoOptions = {}): Repo {
  const env = opts.env ?? isolatedGitEnv()
  const run = (cwd: string, ...args: string[]) => gitWithEnv(env, cwd, ...args)
  let dir: string
  if (opts.name) {
    dir = join(root, opts.name)
    mkdirSync(dir, {recursive: true})
  } else {
    dir = mkdtempSync(join(root, 'repo-'))
  }
  // -c identity: works whatever global config the environment has (or has not).
  const id = ['-c', 'user.name=makima test', '-c', 'user.email=test@makima.invalid']
  run(dir, 'init', '-q', '-b', 'main')
  const files = opts.files ?? {'README.md': '# test repo\n'}
  for (const [path, content] of Object.entries(files)) {
    const file = join(dir, path)
    mkdirSync(dirname(file), {recursive: true})
    writeFileSync(file, content)
  }
  run(dir, 'add', '-A')
  run(dir, ...id, 'commit', '-q', '--allow-empty', '-m', 'initial commit')
  const head = run(dir, 'rev-parse', 'HEAD')
  let remote: string | undefined
  if (opts.bare) {
    remote = `${dir}.git`
    run(root, 'init', '-q', '--bare', '-b', 'main', remote)
    run(dir, 'remote', 'add', 'origin', remote)
    run(dir, 'push', '-q', '-u', 'origin', 'main')
  }
  return {dir, remote, head, git: (...args: string[]) => run(dir, ...args)}
}

/**
 * A maker of temp directories (realpath'd, so paths compare equal to git's) that are all removed
 * after each test of the calling file.
 */
export function tempRoots(prefix: string): () => string {
  const made: string[] = []
  afterEach(() => {
    for (const dir of made.splice(0)) rmSync(dir, {recursive: true, force: true})
  })
  return () => {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)))
    made.push(dir)
    return dir
  }
}
