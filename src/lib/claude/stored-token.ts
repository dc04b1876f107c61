import {createHash} from 'node:crypto'
import {mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import path from 'node:path'

// The long-lived token `claude setup-token` prints (makima auth login, the daemon's login flow),
// kept in MAKIMA_HOME (0600) so tasks use it without anyone exporting it, and so a daemon that
// restarts (restartDaemon, a crash, a new pod on the same volume) keeps its login.
//
// Precedence: a CLAUDE_CODE_OAUTH_TOKEN in the environment wins, except the very token the stored
// one was made to replace (the login ran because that one failed: a k8s Secret still holding an
// expired token must not undo the login after a restart). A token someone sets later wins again.

const FILE = 'claude-oauth-token.json'

interface StoredToken {
  token: string
  /** sha256 of the environment's CLAUDE_CODE_OAUTH_TOKEN when this one was saved, if any */
  replaces: string | null
  savedAt: string
}

export function storedTokenPath(home: string): string {
  return path.join(home, FILE)
}

const fingerprint = (token: string) => createHash('sha256').update(token).digest('hex')

/** Save a token (atomically, 0600); `replacing` is the environment's token it supersedes. */
export function saveStoredToken(home: string, token: string, replacing?: string): string {
  mkdirSync(home, {recursive: true, mode: 0o700})
  const file = storedTokenPath(home)
  const record: StoredToken = {token, replaces: replacing ? fingerprint(replacing) : null, savedAt: new Date().toISOString()}
  const tmp = `${file}.${process.pid}.tmp`
  writeFileSync(tmp, `${JSON.stringify(record)}\n`, {mode: 0o600})
  renameSync(tmp, file)
  return file
}

function loadStoredToken(home: string): StoredToken | undefined {
  try {
    const value = JSON.parse(readFileSync(storedTokenPath(home), 'utf8')) as Partial<StoredToken>
    return typeof value.token === 'string' && value.token !== '' ? {token: value.token, replaces: value.replaces ?? null, savedAt: String(value.savedAt ?? '')} : undefined
  } catch {
    return undefined // none saved (or unreadable: Claude Code's own credentials apply)
  }
}

/** The environment with the stored token as CLAUDE_CODE_OAUTH_TOKEN where it applies (see above). */
export function withStoredToken<T extends Record<string, string | undefined>>(env: T, home: string): T {
  const stored = loadStoredToken(home)
  if (!stored) return env
  const current = env.CLAUDE_CODE_OAUTH_TOKEN
  if (current && current !== stored.token && fingerprint(current) !== stored.replaces) return env
  return {...env, CLAUDE_CODE_OAUTH_TOKEN: stored.token}
}
