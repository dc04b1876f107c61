import {readFileSync, statSync} from 'node:fs'
import path from 'node:path'

import {expandHome, readConfigFile, getPath} from '../config/load.js'
import type {Config} from '../config/types.js'
import {MakimaError} from '../errors.js'

/**
 * makima's own secrets and where a process finds them. The server API key is the daemon's alone:
 * it comes from the environment, `--api-key` or `server.apiKeyFile`, is read once at start, and
 * is never put in config.json (`config set` refuses it), a task's environment or any output.
 * A key an older makima wrote into config.json still works, with a warning (`doctor` says how to
 * move it).
 */

/** Environment variables whose values are secrets wherever they appear in output. */
export const SECRET_ENV_VARIABLES = ['MAKIMA_DAEMON_SERVER_APIKEY', 'CLAUDE_CODE_OAUTH_TOKEN', 'ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN'] as const

export type ServerKeySource = 'flag or environment' | 'key file' | 'config.json'

export interface ServerKey {
  key: string
  source: ServerKeySource
  /** where it came from, for messages: the file, or the variable */
  where: string
}

/** The key in server.apiKeyFile, trimmed; a missing, empty or unreadable file names itself. */
export function readApiKeyFile(file: string): string {
  const resolved = path.resolve(expandHome(file))
  let text: string
  try {
    text = readFileSync(resolved, 'utf8')
  } catch (error) {
    throw new MakimaError('INVALID_INPUT', `cannot read the server API key file ${resolved} (server.apiKeyFile): ${(error as Error).message}`)
  }
  const key = text.trim()
  if (key === '') throw new MakimaError('INVALID_INPUT', `the server API key file ${resolved} (server.apiKeyFile) is empty`)
  return key
}

/** The daemon's server API key and where it came from, or undefined when none is configured. */
export function serverApiKey(config: Config): ServerKey | undefined {
  const key = config.server.apiKey
  if (key) {
    const inFile = getPath(readConfigFile(config.home), 'server.apiKey') === key
    return inFile ? {key, source: 'config.json', where: path.join(config.home, 'config.json')} : {key, source: 'flag or environment', where: 'MAKIMA_DAEMON_SERVER_APIKEY or --api-key'}
  }
  if (config.server.apiKeyFile) {
    const file = path.resolve(expandHome(config.server.apiKeyFile))
    return {key: readApiKeyFile(file), source: 'key file', where: file}
  }
  return undefined
}

/** Every secret this process knows of (for redaction): the server key, Claude Code's credentials. */
export function knownSecrets(config: Config, env: Record<string, string | undefined>): string[] {
  const out: string[] = []
  if (config.server.apiKey) out.push(config.server.apiKey)
  if (config.server.apiKeyFile) {
    try {
      out.push(readApiKeyFile(config.server.apiKeyFile))
    } catch {
      // a CLI task does not need the key; the daemon reports a bad file when it starts
    }
  }
  for (const name of SECRET_ENV_VARIABLES) if (env[name]) out.push(env[name]!)
  return out
}

/**
 * Places a task running as the same user could read a makima secret from, as warnings for
 * `doctor` (empty when there are none). With process.bubblewrap.enabled the key file is hidden
 * from tasks and they get their own process namespace (sandbox.ts).
 */
export function exposedSecrets(config: Config, env: Record<string, string | undefined>): string[] {
  const out: string[] = []
  if (getPath(readConfigFile(config.home), 'server.apiKey') !== undefined) {
    out.push(
      `server.apiKey is stored in ${path.join(config.home, 'config.json')}, which every task can read: move it to MAKIMA_DAEMON_SERVER_APIKEY or server.apiKeyFile, then \`makima config unset server.apiKey\``,
    )
  }
  const sandboxed = config.process.bubblewrap.enabled
  if (config.server.apiKeyFile && !sandboxed) {
    const file = path.resolve(expandHome(config.server.apiKeyFile))
    out.push(`the server API key file ${file} is readable by tasks (they run as your user): enable process.bubblewrap.enabled to hide it from them`)
    if (isInside(file, config.home)) out.push(`the server API key file ${file} is inside MAKIMA_HOME, where tasks work: keep it elsewhere`)
    if (isLoose(file)) out.push(`the server API key file ${file} is readable by other users: chmod 600 ${file}`)
  }
  if (env.MAKIMA_DAEMON_SERVER_APIKEY && !sandboxed) {
    out.push(
      'MAKIMA_DAEMON_SERVER_APIKEY is in the environment: a task can read a process environment of your user in /proc; enable process.bubblewrap.enabled so tasks run in their own process namespace',
    )
  }
  return out
}

function isInside(file: string, dir: string): boolean {
  const rel = path.relative(path.resolve(dir), file)
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel))
}

function isLoose(file: string): boolean {
  try {
    return (statSync(file).mode & 0o077) !== 0
  } catch {
    return false
  }
}
