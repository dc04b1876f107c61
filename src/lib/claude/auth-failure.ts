import type {ClaudeEvent} from './stream-event.js'

// Claude Code's authentication failure, recognised on the first event that shows it
// (docs/design.md weakness 9), so makima can stop the process instead of waiting out minutes
// of retries.

/** The task's error when Claude Code's authentication failed (its failureKind is 'auth'). */
export function authFailureTaskError(reason: string): string {
  return `Claude Code is not logged in or its token expired: run \`makima auth login\` (${reason})`
}

/** Text signatures of auth failures in older Claude Code versions (synthetic text / result). */
const AUTH_TEXT_PATTERNS: readonly RegExp[] = [
  /OAuth token has expired/i,
  /OAuth token (?:has been )?revoked/i,
  /Invalid API key/i,
  /Please run \/login/i,
  /authentication_error/i,
  /Failed to authenticate/i,
  /401.*(?:unauthori[sz]ed|authentication)/i,
]

function authTextReason(text: string): string | null {
  for (const re of AUTH_TEXT_PATTERNS) {
    if (re.test(text)) return firstLine(text)
  }
  return null
}

function firstLine(text: string): string {
  const nl = text.indexOf('\n')
  const line = (nl === -1 ? text : text.slice(0, nl)).trim()
  return line.length > 300 ? line.slice(0, 299) + '…' : line
}

/**
 * A reason when the event shows Claude Code's authentication failure, else null.
 * 2.1.x: `system/api_retry` with `error_status: 401` / `error: "authentication_failed"` (the
 * first one arrives within a second; the CLI then retries for minutes), and finally a `result`
 * with `is_error` and `api_error_status: 401`. Older versions: only text on a synthetic assistant
 * message or an error result.
 */
export function authFailureOf(event: ClaudeEvent): string | null {
  switch (event.kind) {
    case 'api_retry':
      if (event.errorStatus === 401 || event.error === 'authentication_failed') {
        const status = event.errorStatus === null ? '' : ` ${event.errorStatus}`
        return `API authentication failed (HTTP${status}${event.error ? `, ${event.error}` : ''}) on attempt ${event.attempt}/${event.maxRetries}`
      }
      return null
    case 'result':
      if (!event.isError) return null
      if (event.apiErrorStatus === 401) {
        return event.result ? firstLine(event.result) : 'API authentication failed (HTTP 401)'
      }
      return event.result ? authTextReason(event.result) : null
    case 'assistant': {
      if (!event.synthetic) return null
      let text = ''
      for (const b of event.content) if (b.type === 'text') text += (text ? '\n' : '') + b.text
      if (event.error === 'authentication_failed') {
        return text ? firstLine(text) : 'API authentication failed'
      }
      return text ? authTextReason(text) : null
    }
    default:
      return null
  }
}
