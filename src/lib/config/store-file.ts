import {chmodSync, existsSync, mkdirSync} from 'node:fs'

import {MakimaError} from '../errors.js'
import {CONFIG_KEYS, keySpec, type KeySpec} from './keys.js'
import {configFilePath, readConfigFile, resolveKey, type ValueSource} from './load.js'
import {coerceValue, displayValue} from './values.js'

/**
 * Writes `$MAKIMA_HOME/config.json` (docs/cli.md "Configuration") through `conf`, which
 * writes atomically. Reading stays in load.ts (plain JSON, no `conf`): `conf` costs ~130 ms to
 * import, so it is only imported here, lazily, by the commands that write.
 */

const FILE_MODE = 0o600
const DIR_MODE = 0o700

/** The key's spec, or INVALID_INPUT naming the key and listing the valid ones. */
export function requireKeySpec(key: string): KeySpec {
  const spec = keySpec(key)
  if (!spec) {
    throw new MakimaError('INVALID_INPUT', `unknown config key ${JSON.stringify(key)}; valid keys: ${CONFIG_KEYS.map((s) => s.key).join(', ')}`)
  }
  return spec
}

type Store = {
  has(key: string): boolean
  get(key: string): unknown
  set(key: string, value: unknown): void
  delete(key: string): void
}

/**
 * Open config.json for writing. A corrupt file is reported (readConfigFile throws INVALID_INPUT
 * naming it) before `conf` gets a chance to touch it, so it is never silently overwritten.
 */
async function openStore(home: string): Promise<Store> {
  readConfigFile(home)
  const file = configFilePath(home)
  try {
    mkdirSync(home, {recursive: true, mode: DIR_MODE})
  } catch (error) {
    throw new MakimaError('INTERNAL', `cannot create ${home}: ${(error as Error).message}`, {cause: error})
  }
  const {default: Conf} = await import('conf')
  try {
    return new Conf<Record<string, unknown>>({
      cwd: home,
      configName: 'config',
      projectSuffix: '',
      accessPropertiesByDotNotation: true,
      configFileMode: FILE_MODE,
      // readConfigFile treats a blank file as {}; conf's JSON.parse would throw on it.
      deserialize: (text: string) => (text.trim() === '' ? {} : (JSON.parse(text) as Record<string, unknown>)),
    }) as unknown as Store
  } catch (error) {
    throw new MakimaError('INTERNAL', `cannot open ${file}: ${(error as Error).message}`, {cause: error})
  }
}

function write(home: string, action: () => void): void {
  const file = configFilePath(home)
  try {
    action()
    // conf only applies the mode when it creates the file; tighten an existing looser one too.
    if (existsSync(file)) chmodSync(file, FILE_MODE)
  } catch (error) {
    throw new MakimaError('INTERNAL', `cannot write ${file}: ${(error as Error).message}`, {cause: error})
  }
}

/**
 * `makima config set <key> <value>`: validate and coerce the raw string with the key's type
 * and store it typed (numbers as numbers, booleans as booleans, arrays as arrays).
 * Returns the stored value (not masked: callers show it through displayValue).
 */
export async function setConfigValue(home: string, key: string, rawValue: string): Promise<{key: string; value: unknown}> {
  const spec = requireKeySpec(key)
  if (spec.notInFile) throw new MakimaError('INVALID_INPUT', `${spec.key} cannot be stored in config.json: ${spec.notInFile}`)
  const value = coerceValue(spec, rawValue, 'config set')
  const store = await openStore(home)
  write(home, () => store.set(spec.key, value))
  return {key: spec.key, value}
}

/**
 * `makima config unset <key>`: remove the key from config.json (it goes back to its env value
 * or default), pruning parent objects left empty. `removed` is false when it was not set.
 */
export async function unsetConfigValue(home: string, key: string): Promise<{key: string; removed: boolean}> {
  const spec = requireKeySpec(key)
  const store = await openStore(home)
  if (!store.has(spec.key)) return {key: spec.key, removed: false}
  write(home, () => {
    store.delete(spec.key)
    const parts = spec.key.split('.')
    for (let i = parts.length - 1; i > 0; i--) {
      const parent = parts.slice(0, i).join('.')
      const v = store.get(parent)
      if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.keys(v).length > 0) break
      store.delete(parent)
    }
  })
  return {key: spec.key, removed: true}
}

export interface ConfigEntry {
  key: string
  /** The effective value, masked when secret; null when the key has no value. */
  value: unknown
  source: ValueSource
  /** The environment variable that overrides the key, or null. */
  env: string | null
}

function entry(spec: KeySpec, home: string, file: Record<string, unknown>, env: Record<string, string | undefined>): ConfigEntry {
  const {value, source} = resolveKey(spec, home, file, env)
  return {key: spec.key, value: value === undefined ? null : displayValue(spec, value), source, env: spec.env ?? null}
}

/** `makima config get <key>`: the effective value (env > config.json > default), masked if secret. */
export function getConfigEntry(home: string, key: string, env: Record<string, string | undefined>): ConfigEntry {
  const spec = requireKeySpec(key)
  return entry(spec, home, readConfigFile(home), env)
}

/** `makima config list`: every key with its effective value (masked secrets) and source. */
export function listConfigEntries(home: string, env: Record<string, string | undefined>): ConfigEntry[] {
  const file = readConfigFile(home)
  return CONFIG_KEYS.map((spec) => entry(spec, home, file, env))
}

/** A value as people read it: strings bare, arrays and objects as JSON, no value as ''. */
export function formatConfigValue(value: unknown): string {
  if (value === null || value === undefined) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value)
}
