import {redactCredentials} from '../redact.js'
import type {SecretRedactor} from '../secrets/redactor.js'

export type LogLevel = 'info' | 'warn' | 'error'
export type Logger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void

/**
 * The daemon's log: human-readable lines for a terminal, JSON lines otherwise. Every known
 * secret (the server API key, tool keys, Claude Code's token), in any encoding, is replaced before anything is written.
 */
export function createLogger(options: {json: boolean; out: NodeJS.WritableStream; redactor: SecretRedactor}): Logger {
  const redact = (text: string) => options.redactor.redact(redactCredentials(text))
  return (level, message, fields) => {
    const time = new Date().toISOString()
    if (options.json) {
      options.out.write(`${redact(JSON.stringify({time, level, message, ...fields}))}\n`)
      return
    }
    const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : ''
    options.out.write(`${redact(`${time.slice(11, 19)} ${level.toUpperCase().padEnd(5)} ${message}${extra}`)}\n`)
  }
}
