import {git} from './git-runner.js'

export interface GitIdentity {
  userName: string
  userEmail: string
}

/** What makima commits as when no identity is configured anywhere. */
export const FALLBACK_IDENTITY: GitIdentity = {userName: 'makima', userEmail: 'makima@localhost'}

/**
 * The one reader of who commits: the effective user.name / user.email in `dir` (local, global and
 * system config), in one git call. A value that is unset or empty is missing.
 */
export async function configuredIdentity(dir: string): Promise<Partial<GitIdentity>> {
  const result = await git(['config', '--get-regexp', '^user\\.(name|email)$'], {cwd: dir, allowFailure: true})
  const found: Partial<GitIdentity> = {}
  for (const line of result.exitCode === 0 ? result.stdout.split('\n') : []) {
    const space = line.indexOf(' ')
    const key = (space < 0 ? line : line.slice(0, space)).toLowerCase()
    const value = space < 0 ? '' : line.slice(space + 1).trim()
    // the last value wins, as with `git config --get`; an empty one counts as missing
    const field = key === 'user.name' ? 'userName' : key === 'user.email' ? 'userEmail' : undefined
    if (field) found[field] = value.length > 0 ? value : undefined
  }
  return found
}

/**
 * Make sure commits in `targetDir` (a repository or one of its worktrees) have an identity.
 * For user.name and user.email that resolve to nothing there, the value comes from `sourceDir`'s
 * effective config (its local config, else the global one), else makima's fallback
 * (`makima` / `makima@localhost`), and is written to the repository's local config (shared by
 * its worktrees). Values already configured are never changed. Returns the identity in effect.
 */
export async function inheritGitConfig(targetDir: string, sourceDir?: string): Promise<GitIdentity> {
  const current = await configuredIdentity(targetDir)
  if (current.userName && current.userEmail) return {userName: current.userName, userEmail: current.userEmail}
  const source = sourceDir ? await configuredIdentity(sourceDir) : {}
  const identity = {...FALLBACK_IDENTITY}
  for (const [key, field] of [
    ['user.name', 'userName'],
    ['user.email', 'userEmail'],
  ] as const) {
    const value = current[field] ?? source[field] ?? FALLBACK_IDENTITY[field]
    if (current[field] === undefined) await git(['config', '--local', '--', key, value], {cwd: targetDir})
    identity[field] = value
  }
  return identity
}

/**
 * Environment for a commit makima makes itself (checkpoint, snapshot, the commit of a task's work,
 * a merge commit) in `dir`: empty when user.name and user.email resolve there; otherwise
 * GIT_AUTHOR_* / GIT_COMMITTER_* with makima's fallback (`makima` / `makima@localhost`) for what
 * is missing, unless makima's own environment names it already, so the commit never fails for
 * lack of an identity. Nothing is written to any config.
 */
export async function commitIdentityEnv(dir: string): Promise<Record<string, string>> {
  const configured = await configuredIdentity(dir)
  const env: Record<string, string> = {}
  for (const [field, part] of [
    ['userName', 'NAME'],
    ['userEmail', 'EMAIL'],
  ] as const) {
    const fromEnv = process.env[`GIT_AUTHOR_${part}`] && process.env[`GIT_COMMITTER_${part}`]
    if (configured[field] || fromEnv) continue
    env[`GIT_AUTHOR_${part}`] = FALLBACK_IDENTITY[field]
    env[`GIT_COMMITTER_${part}`] = FALLBACK_IDENTITY[field]
  }
  return env
}
