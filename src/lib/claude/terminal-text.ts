// What a terminal program printed, as plain text: escape sequences out, URLs and tokens found.

export const TOKEN_RE = /sk-ant-[A-Za-z0-9_-]{8,}/g
export const TOKEN_ONE = /sk-ant-[A-Za-z0-9_-]{8,}/

/** Take a token out of text meant for a log. */
export function redactTokens(text: string): string {
  return text.replace(TOKEN_RE, 'sk-ant-[redacted]')
}

/* eslint-disable no-control-regex -- escape sequences and control characters are what this strips */
/**
 * Terminal output as plain text: OSC sequences (titles, hyperlinks) dropped, cursor moves to the
 * right (Ink uses them instead of spaces) become a space, other escape sequences dropped,
 * carriage returns become line breaks.
 */
export function cleanTerminalText(raw: string): string {
  return raw
    .replace(/\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g, '') // OSC ... BEL | ST
    .replace(/\x1b\[[0-?]*[ -/]*([@-~])/g, (_m, final: string) => (final === 'G' || final === 'C' ? ' ' : '')) // CSI
    .replace(/\x1b[()*+][0-9A-Za-z]/g, '') // charset selection
    .replace(/\x1b[@-_]/g, '') // other two-byte escapes (ESC 7, ESC 8, ESC =, ...)
    .replace(/\r\n?/g, '\n')
    .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '')
    .replace(/[ \t]+\n/g, '\n')
}
/* eslint-enable no-control-regex */

/** The sign-in URL in setup-token's output: the first http(s) URL that looks like an OAuth one, else the first URL. */
export function findLoginUrl(text: string): string | undefined {
  const urls = [...text.matchAll(/https?:\/\/[^\s"'<>`)\]]+/g)].map((m) => m[0].replace(/[.,;:]+$/, ''))
  return urls.find((u) => /oauth|authorize/i.test(u)) ?? urls[0]
}

/** Non-empty lines of cleaned text, without spinner-only or box-drawing-only lines. */
export function meaningfulLines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\s+/g, ' ').trim())
    .filter((l) => l !== '' && /[A-Za-z0-9]/.test(l))
}
