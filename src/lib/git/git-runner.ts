import {MakimaError} from '../errors.js'

export interface GitOptions {
  cwd: string
  input?: string | Buffer
  env?: Record<string, string>
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean
  /** Return stdout as a Buffer (binary patches). */
  binary?: boolean
  timeoutMs?: number
}

export interface GitResult<T = string> {
  stdout: T
  stderr: string
  exitCode: number
}

/** A git command that failed: carries the command, the exit code and git's stderr. */
export class GitError extends MakimaError {
  constructor(
    readonly args: string[],
    readonly exitCode_: number,
    readonly stderr: string,
  ) {
    super(classify(stderr), `git ${args[0]} failed: ${firstLine(stderr) || `exit code ${exitCode_}`}`, {
      details: {args, exitCode: exitCode_, stderr},
    })
  }
}

function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.startsWith('fatal:') || l.startsWith('error:')) ??
    text.trim().split('\n')[0] ??
    ''
  ).replace(/^(fatal|error): /, '')
}

function classify(stderr: string): 'INVALID_INPUT' | 'FAILED' {
  return /not a git repository|is not a valid branch name|invalid reference|bad revision|unknown revision/i.test(stderr) ? 'INVALID_INPUT' : 'FAILED'
}

let execaModule: typeof import('execa') | undefined

/**
 * The one way makima runs git. Callers pass arguments as an array (never a shell string), put
 * `--` before paths where git allows it, and validate ref names first (refs.ts). Prompts are
 * disabled and messages are in English so they can be matched.
 */
export async function git(args: string[], options: GitOptions & {binary: true}): Promise<GitResult<Buffer>>
export async function git(args: string[], options: GitOptions): Promise<GitResult<string>>
export async function git(args: string[], options: GitOptions): Promise<GitResult<string | Buffer>> {
  execaModule ??= await import('execa')
  const result = await execaModule.execa('git', args, {
    cwd: options.cwd,
    input: options.input,
    reject: false,
    stripFinalNewline: false,
    encoding: options.binary ? 'buffer' : 'utf8',
    timeout: options.timeoutMs,
    maxBuffer: 1024 * 1024 * 1024,
    env: {GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', LANGUAGE: 'C', GIT_OPTIONAL_LOCKS: '0', ...options.env},
  })
  const stderr = String(result.stderr ?? '')
  const exitCode = result.exitCode ?? (result.signal ? 128 : 1)
  if (result.failed && result.exitCode === undefined) {
    const reason = (result as {code?: string}).code === 'ENOENT' ? 'git is not installed or not on PATH' : (result.message ?? 'could not run git')
    throw new MakimaError('INTERNAL', reason)
  }
  if (exitCode !== 0 && !options.allowFailure) throw new GitError(args, exitCode, stderr)
  const stdout = options.binary ? Buffer.from(result.stdout as unknown as Uint8Array) : String(result.stdout ?? '')
  return {stdout, stderr, exitCode}
}

/** stdout of a git command, trimmed. */
export async function gitText(args: string[], options: GitOptions): Promise<string> {
  return (await git(args, options)).stdout.trim()
}
