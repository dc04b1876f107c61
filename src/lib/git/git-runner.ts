import {MakimaError} from '../errors.js'
import {GitError} from './git-error.js'

export interface GitOptions {
  cwd: string
  input?: string | Buffer
  env?: Record<string, string>
  /** Resolve with the result instead of throwing a GitError (git-error.ts) on a non-zero exit. */
  allowFailure?: boolean
  /** Return stdout as a Buffer (binary patches). */
  binary?: boolean
  timeoutMs?: number
  /** run git (and the processes it starts) at the lowest CPU priority: background work (the warm pool) */
  lowPriority?: boolean
}

export interface GitResult<T = string> {
  stdout: T
  stderr: string
  exitCode: number
}

/**
 * The one way makima runs git, called only inside src/lib/git: the rest of makima uses its verbs
 * (refs.ts, worktrees.ts, commits.ts, …), which return parsed results and fail with GitError
 * (git-error.ts). Arguments are an array (never a shell string), with `--` before paths where git
 * allows it and ref names validated first (ref-format.ts). Prompts are disabled and messages are
 * in English so they can be classified. Run with node:child_process
 * directly: execa cost ~150 ms to import and ~8 ms more a call, and a `task spawn` runs ~9 git
 * commands (the bench's repository figures).
 */
export async function git(args: string[], options: GitOptions & {binary: true}): Promise<GitResult<Buffer>>
export async function git(args: string[], options: GitOptions): Promise<GitResult<string>>
export async function git(args: string[], options: GitOptions): Promise<GitResult<string | Buffer>> {
  const {spawn} = await import('node:child_process')
  const setPriority = options.lowPriority ? (await import('node:os')).setPriority : undefined
  const env = {...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', LANGUAGE: 'C', GIT_OPTIONAL_LOCKS: '0', ...options.env}
  const result = await new Promise<{stdout: Buffer; stderr: string; code: number | null; signal: NodeJS.Signals | null}>((resolve, reject) => {
    const child = spawn('git', args, {cwd: options.cwd, env, stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe']})
    if (setPriority && child.pid) {
      try {
        setPriority(child.pid, 19) // before git has started its own processes (checkout workers)
      } catch {
        // exited already, or not permitted: it runs at the normal priority
      }
    }
    const out: Buffer[] = []
    const err: Buffer[] = []
    let timedOut = false
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true
            child.kill('SIGTERM')
          }, options.timeoutMs)
    child.stdout!.on('data', (chunk: Buffer) => out.push(chunk))
    child.stderr!.on('data', (chunk: Buffer) => err.push(chunk))
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(new MakimaError('INTERNAL', error.code === 'ENOENT' ? 'git is not installed or not on PATH' : `could not run git: ${error.message}`))
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      if (timedOut) return reject(new MakimaError('INTERNAL', `git ${args[0]} timed out after ${options.timeoutMs} ms`))
      resolve({stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), code, signal})
    })
    if (options.input !== undefined) {
      child.stdin!.on('error', () => {}) // EPIPE: git exited without reading it all; its exit code says why
      child.stdin!.end(options.input)
    }
  })
  const exitCode = result.code ?? (result.signal ? 128 : 1)
  if (exitCode !== 0 && !options.allowFailure) throw new GitError(args, exitCode, result.stderr, options.binary ? '' : result.stdout.toString('utf8'))
  return {stdout: options.binary ? result.stdout : result.stdout.toString('utf8'), stderr: result.stderr, exitCode}
}

/** stdout of a git command, trimmed. */
export async function gitText(args: string[], options: GitOptions): Promise<string> {
  return (await git(args, options)).stdout.trim()
}

/**
 * The installed git's version line (`git version 2.x.y`), or undefined when git is not on PATH
 * (of `env`, default makima's own) or does not answer within 5 s.
 */
export async function gitVersion(env: Record<string, string | undefined> = process.env): Promise<string | undefined> {
  const {tmpdir} = await import('node:os')
  const defined = Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined))
  const r = await git(['--version'], {cwd: tmpdir(), env: defined, allowFailure: true, timeoutMs: 5000}).catch(() => undefined)
  return r?.exitCode === 0 ? r.stdout.trim().split('\n')[0] : undefined
}
