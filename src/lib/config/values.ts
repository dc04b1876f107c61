import {MakimaError} from '../errors.js'
import type {KeySpec} from './keys.js'

/**
 * Turn a raw value (a string from the environment or `config set`, or a JSON value from
 * config.json) into the key's type, or throw INVALID_INPUT naming the key, the value and where
 * it came from. Hand-written rather than zod: this runs on every command, including the
 * start-up-critical `task list`, and zod's import alone costs ~100 ms (docs/design.md).
 */
export function coerceValue(spec: KeySpec, raw: unknown, source: string): unknown {
  const bad = (why: string) => new MakimaError('INVALID_INPUT', `invalid value ${JSON.stringify(raw)} for ${spec.key} (from ${source}): ${why}`)
  switch (spec.type) {
    case 'string':
    case 'secret': {
      if (typeof raw !== 'string' || raw.length === 0) throw bad('expected a non-empty string')
      return raw
    }
    case 'url': {
      if (typeof raw !== 'string') throw bad('expected a URL')
      let url: URL
      try {
        url = new URL(raw)
      } catch {
        throw bad('not a URL')
      }
      if (spec.schemes && !spec.schemes.includes(url.protocol)) throw bad(`the scheme must be one of ${spec.schemes.join(', ')}`)
      return raw
    }
    case 'int':
    case 'number': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : Number.NaN
      if (!Number.isFinite(n)) throw bad('expected a number')
      if (spec.type === 'int' && !Number.isInteger(n)) throw bad('expected a whole number')
      if (spec.min !== undefined && n < spec.min) throw bad(`must be at least ${spec.min}`)
      if (spec.max !== undefined && n > spec.max) throw bad(`must be at most ${spec.max}`)
      return n
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return raw
      if (typeof raw === 'string') {
        const v = raw.trim().toLowerCase()
        if (['1', 'true', 'yes', 'on'].includes(v)) return true
        if (['0', 'false', 'no', 'off'].includes(v)) return false
      }
      throw bad('expected true or false')
    }
    case 'stringArray': {
      let value = raw
      if (typeof raw === 'string') {
        try {
          value = JSON.parse(raw)
        } catch {
          throw bad('expected a JSON array of strings, e.g. ["--model","sonnet"]')
        }
      }
      if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw bad('expected an array of strings')
      return value
    }
  }
}

/** Shown by `config list`/`get`: secrets are masked. */
export function displayValue(spec: KeySpec, value: unknown): unknown {
  if (spec.type === 'secret' && typeof value === 'string') return value.length > 4 ? `${'*'.repeat(8)}${value.slice(-4)}` : '********'
  return value
}
