import {accessSync, constants, statSync} from 'node:fs'
import path from 'node:path'

import {MakimaError} from '../errors.js'

export interface PullRequestOptions {
  /** directory gh runs in (the task's worktree): gh finds the GitHub repository from its remotes */
  cwd: string
  head: string
  base: string
  title: string
  body: string
  /** environment gh gets, already cleaned of makima's secrets by the caller (tasks/delivery); its PATH is where gh is looked up */
  env: Record<string, string | undefined>
  timeoutMs?: number
}

export interface PullRequest {
  url: string
  number: number | undefined
  /** gh said a pull request for this head and base already exists (a retry) */
  existing: boolean
}

/** GitHub caps a PR body at 65536 characters. */
const MAX_BODY = 60_000

/** An executable named `name` in one of PATH's directories, or undefined. */
export function findOnPath(name: string, envPath: string | undefined): string | undefined {
  for (const dir of (envPath ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      if (statSync(candidate).isFile()) return candidate
    } catch {
      // keep looking
    }
  }
  return undefined
}

/** The last URL in a text (gh prints the new PR's URL last). */
export function lastUrl(text: string): string | undefined {
  const urls = text.match(/https?:\/\/[^\s"'<>]+/g)
  return urls?.at(-1)
}

export function prNumberOf(url: string): number | undefined {
  const m = url.match(/\/pull\/(\d+)(?:[/?#]|$)/)
  return m ? Number(m[1]) : undefined
}

/**
 * `gh pr create --head <b> --base <b> --title <t> --body <b>` (each value in `--flag=value` form,
 * so a title starting with "-" is never read as an option). gh comes from PATH; without it this
 * fails with what to install. A PR that already exists for head and base (a retried action) is
 * taken as the result. Throws MakimaError FAILED with gh's message otherwise.
 */
export async function createPullRequest(options: PullRequestOptions): Promise<PullRequest> {
  const gh = findOnPath('gh', options.env.PATH)
  if (!gh) {
    throw new MakimaError('FAILED', 'GitHub CLI (gh) was not found on PATH: install GitHub CLI (https://cli.github.com) and log in with `gh auth login`')
  }
  const body = options.body.length > MAX_BODY ? `${options.body.slice(0, MAX_BODY)}\n\n…(truncated)` : options.body
  const args = ['pr', 'create', `--head=${options.head}`, `--base=${options.base}`, `--title=${options.title}`, `--body=${body}`]
  const {execa} = await import('execa')
  const result = await execa(gh, args, {
    cwd: options.cwd,
    reject: false,
    stdin: 'ignore',
    timeout: options.timeoutMs ?? 120_000,
    extendEnv: false,
    env: {...options.env, GH_PROMPT_DISABLED: '1', NO_COLOR: '1', GIT_TERMINAL_PROMPT: '0'},
  })
  const stdout = String(result.stdout ?? '')
  const stderr = String(result.stderr ?? '')
  if (result.exitCode === 0) {
    const url = lastUrl(stdout)
    if (!url) throw new MakimaError('FAILED', `gh pr create printed no pull request URL: ${(stdout || stderr).trim().slice(0, 300)}`)
    return {url, number: prNumberOf(url), existing: false}
  }
  const existing = /already exists/i.test(stderr) ? lastUrl(stderr) : undefined
  if (existing) return {url: existing, number: prNumberOf(existing), existing: true}
  const why = result.timedOut ? 'it timed out' : stderr.trim().split('\n').filter(Boolean).slice(-3).join(' | ') || `exit code ${result.exitCode}`
  throw new MakimaError('FAILED', `gh pr create failed: ${why}`)
}
