import {execFile} from 'node:child_process'
import {existsSync} from 'node:fs'
import path from 'node:path'

/** What `makima auth status` reports. */
export interface ClaudeAuthStatus {
  loggedIn: boolean
  /** e.g. "api_key", "oauth_token", "claude.ai", "none" (Claude Code's words) */
  authMethod: string
  apiProvider: string | null
  apiKeySource: string | null
  /** how it was found out */
  source: string
  claudeCommand: string
}

/**
 * Claude Code's own answer (`claude auth status`, JSON by default in 2.1.x; offline, ~1 s, exit 1
 * when logged out). When that subcommand is missing or says nothing readable (older CLIs), the
 * same offline check by hand: the API key / OAuth token variables, then stored credentials.
 */
export async function claudeAuthStatus(claude: string, env: Record<string, string>, timeoutMs = 30_000): Promise<ClaudeAuthStatus> {
  const answer = await new Promise<string>((resolve) => {
    execFile(claude, ['auth', 'status', '--json'], {env, timeout: timeoutMs, maxBuffer: 1024 * 1024}, (_error, stdout) => resolve(String(stdout ?? '')))
  })
  const parsed = parseStatus(answer)
  if (parsed) return {...parsed, source: `${claude} auth status`, claudeCommand: claude}
  return {...offlineCheck(env), claudeCommand: claude}
}

function parseStatus(text: string): Omit<ClaudeAuthStatus, 'source' | 'claudeCommand'> | null {
  const start = text.indexOf('{')
  if (start === -1) return null
  try {
    const v = JSON.parse(text.slice(start)) as Record<string, unknown>
    if (typeof v.loggedIn !== 'boolean') return null
    return {
      loggedIn: v.loggedIn,
      authMethod: typeof v.authMethod === 'string' ? v.authMethod : v.loggedIn ? 'unknown' : 'none',
      apiProvider: typeof v.apiProvider === 'string' ? v.apiProvider : null,
      apiKeySource: typeof v.apiKeySource === 'string' ? v.apiKeySource : null,
    }
  } catch {
    return null
  }
}

function offlineCheck(env: Record<string, string>): Omit<ClaudeAuthStatus, 'claudeCommand'> {
  const source = 'environment and ~/.claude/.credentials.json (`claude auth status` gave no answer)'
  if (env.ANTHROPIC_API_KEY) return {loggedIn: true, authMethod: 'api_key', apiProvider: null, apiKeySource: 'ANTHROPIC_API_KEY', source}
  if (env.CLAUDE_CODE_OAUTH_TOKEN) return {loggedIn: true, authMethod: 'oauth_token', apiProvider: null, apiKeySource: 'CLAUDE_CODE_OAUTH_TOKEN', source}
  const configDir = env.CLAUDE_CONFIG_DIR || (env.HOME ? path.join(env.HOME, '.claude') : null)
  if (configDir && existsSync(path.join(configDir, '.credentials.json'))) {
    return {loggedIn: true, authMethod: 'claude.ai', apiProvider: null, apiKeySource: null, source}
  }
  return {loggedIn: false, authMethod: 'none', apiProvider: null, apiKeySource: null, source}
}
