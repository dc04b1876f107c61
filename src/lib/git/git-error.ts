import {MakimaError, type ErrorCode} from '../errors.js'

/**
 * What went wrong in a git command, read from its output in one place (classifyGitError), so
 * callers decide on a kind and never on git's wording.
 */
export type GitErrorKind =
  | 'not-a-repository' // the directory is in no git repository
  | 'missing-remote-ref' // fetch: the remote has no such branch
  | 'bad-revision' // a revision or ref that does not resolve
  | 'bad-name' // a branch name git refuses
  | 'local-changes' // local changes, unmerged files or an unfinished merge stand in the way
  | 'conflict' // a merge or a patch did not go through cleanly
  | 'rejected' // a push or a ref update refused: the ref moved, or is not a fast-forward
  | 'locked' // another git process holds a lock file
  | 'auth' // the remote refused the credentials
  | 'missing-repository' // clone/fetch: there is no repository at that address
  | 'failed' // anything else

/** First match wins: the more specific patterns come first. */
const KIND_PATTERNS: ReadonlyArray<readonly [GitErrorKind, RegExp]> = [
  ['not-a-repository', /not a git repository/i],
  ['missing-remote-ref', /couldn't find remote ref/i],
  ['bad-revision', /invalid reference|bad revision|unknown revision/i],
  ['bad-name', /is not a valid branch name/i],
  ['local-changes', /would be overwritten|commit your changes or stash|not concluded your merge|unmerged files|needs merge/i],
  ['conflict', /^CONFLICT \(|automatic merge failed|patch does not apply|patch failed/im],
  ['rejected', /\[rejected\]|non-fast-forward|failed to push some refs|cannot lock ref .*but expected/i],
  ['locked', /\.lock': File exists|unable to create '.*\.lock'|cannot lock ref/i],
  ['auth', /authentication failed|could not read username|invalid username or password|permission denied \(publickey/i],
  ['missing-repository', /does not appear to be a git repository|repository .*not found|not found|does not exist|no such file or directory/i],
]

/** The kind of a failure from git's output (stderr, and stdout where git reports there too). */
export function classifyGitError(output: string): GitErrorKind {
  return KIND_PATTERNS.find(([, pattern]) => pattern.test(output))?.[0] ?? 'failed'
}

/** The kinds that are the caller's bad input (a path that is no repository, a ref that is not there); the rest FAILED. */
const INPUT_KINDS: ReadonlySet<GitErrorKind> = new Set(['not-a-repository', 'bad-revision', 'bad-name'])

/**
 * git's own explanation as one line: each `fatal:`/`error:` line (prefix dropped) with the
 * indented lines after it (the files git lists), else the output's lines; `hint:` lines and
 * "Aborting" left out, at most five, joined with "; ". `fallback` when git said nothing.
 */
export function gitMessage(output: string, fallback = 'no message from git'): string {
  const lines = output.split('\n').filter((l) => l.trim() !== '' && !/^hint:/.test(l) && l.trim() !== 'Aborting')
  const isError = (line: string) => /^(fatal|error):/.test(line)
  const parts: string[] = []
  if (lines.some(isError)) {
    let attach = false
    for (const line of lines) {
      if (isError(line)) parts.push(line.replace(/^(fatal|error):\s*/, '').trim())
      else if (attach && /^\s/.test(line)) parts[parts.length - 1] += ` ${line.trim()}`
      else attach = false
      if (isError(line)) attach = true
    }
  } else {
    parts.push(...lines.map((l) => l.trim()))
  }
  return parts.slice(0, 5).join('; ') || fallback
}

/** The git subcommand of an argument list (after `-c name=value` options). */
function subcommand(args: readonly string[]): string {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-c') i++
    else if (!args[i].startsWith('-')) return args[i]
  }
  return args[0] ?? ''
}

/**
 * A git command that failed: the command, its exit code, git's stderr and the kind of failure.
 * Its MakimaError code is INVALID_INPUT for a directory that is no repository or a ref that does
 * not resolve or is no valid name, FAILED otherwise.
 */
export class GitError extends MakimaError {
  readonly kind: GitErrorKind

  constructor(
    readonly args: string[],
    readonly exitCode_: number,
    readonly stderr: string,
    stdout = '',
  ) {
    const kind = classifyGitError(`${stderr}\n${stdout}`)
    const code: ErrorCode = INPUT_KINDS.has(kind) ? 'INVALID_INPUT' : 'FAILED'
    super(code, `git ${subcommand(args)} failed: ${gitMessage(stderr, `exit code ${exitCode_}`)}`, {details: {args, exitCode: exitCode_, stderr}})
    this.kind = kind
  }
}

/** Is `error` a GitError (of one of `kinds`, when given)? */
export function isGitError(error: unknown, ...kinds: GitErrorKind[]): error is GitError {
  return error instanceof GitError && (kinds.length === 0 || kinds.includes(error.kind))
}
