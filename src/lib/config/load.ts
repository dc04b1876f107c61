import {readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'

import {MakimaError} from '../errors.js'
import {expandHome} from '../os/home-path.js'
import {CONFIG_KEYS, type KeySpec} from './keys.js'
import {coerceValue} from './values.js'
import type {Config} from './types.js'

export interface LoadConfigOptions {
  /** The environment to read MAKIMA_HOME and MAKIMA_DAEMON_* from (commands pass process.env). */
  env: Record<string, string | undefined>
  /** Command-flag overrides by key, e.g. {'process.maxConcurrentTasks': 3}. Highest precedence. */
  overrides?: Record<string, unknown>
}

export function resolveHome(env: Record<string, string | undefined>): string {
  const raw = env.MAKIMA_HOME
  return path.resolve(raw && raw.length > 0 ? expandHome(raw) : path.join(homedir(), '.makima'))
}

export {expandHome}

export function configFilePath(home: string): string {
  return path.join(home, 'config.json')
}

/** Read config.json as plain JSON (missing file = {}). A corrupt file is an INVALID_INPUT naming it. */
export function readConfigFile(home: string): Record<string, unknown> {
  const file = configFilePath(home)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    // ENOTDIR: MAKIMA_HOME is under a file; opening the database says so, with the fix.
    if (['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')) return {}
    throw new MakimaError('INVALID_INPUT', `cannot read ${file}: ${(error as Error).message}`)
  }
  if (text.trim() === '') return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw new MakimaError('INVALID_INPUT', `${file} is not valid JSON (${(error as Error).message}); fix it or remove it to go back to defaults`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new MakimaError('INVALID_INPUT', `${file} must hold a JSON object`)
  }
  return parsed as Record<string, unknown>
}

export function getPath(obj: Record<string, unknown>, dotted: string): unknown {
  let cur: unknown = obj
  for (const part of dotted.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined
    cur = (cur as Record<string, unknown>)[part]
  }
  return cur
}

function setPath(obj: Record<string, unknown>, dotted: string, value: unknown): void {
  const parts = dotted.split('.')
  let cur = obj
  for (const part of parts.slice(0, -1)) {
    if (typeof cur[part] !== 'object' || cur[part] === null) cur[part] = {}
    cur = cur[part] as Record<string, unknown>
  }
  cur[parts.at(-1)!] = value
}

export type ValueSource = 'flag' | 'env' | 'file' | 'default'

/** Where a key's effective value comes from and what it is: flag > env > config.json > default. */
export function resolveKey(
  spec: KeySpec,
  home: string,
  file: Record<string, unknown>,
  env: Record<string, string | undefined>,
  overrides: Record<string, unknown> = {},
): {value: unknown; source: ValueSource} {
  if (overrides[spec.key] !== undefined) return {value: coerceValue(spec, overrides[spec.key], 'flag'), source: 'flag'}
  const fromEnv = spec.env ? env[spec.env] : undefined
  if (fromEnv !== undefined && fromEnv !== '') return {value: coerceValue(spec, fromEnv, `env ${spec.env}`), source: 'env'}
  const fromFile = getPath(file, spec.key)
  if (fromFile !== undefined && fromFile !== null) return {value: coerceValue(spec, fromFile, configFilePath(home)), source: 'file'}
  const def = typeof spec.default === 'function' ? (spec.default as (h: string) => unknown)(home) : spec.default
  return {value: def, source: 'default'}
}

export function loadConfig(options: LoadConfigOptions): Config {
  const home = resolveHome(options.env)
  const file = readConfigFile(home)
  const out: Record<string, unknown> = {home}
  for (const spec of CONFIG_KEYS) {
    const {value} = resolveKey(spec, home, file, options.env, options.overrides)
    if (value !== undefined) setPath(out, spec.key, spec.type === 'string' && typeof value === 'string' && spec.key.match(/Dir$|\.path$/) ? path.resolve(expandHome(value)) : value)
  }
  return out as unknown as Config
}
