/**
 * Known secrets (the server API key, tool keys, Claude Code credentials) taken out of text before
 * it is stored, sent or logged: the secret itself and the encodings a task's shell makes of it
 * without trying (base64 and base64url at each of the three byte alignments, hex, URL and JSON
 * escaping), also when a line break was put inside it (`base64` wraps at 76 columns; in a
 * stream-json line the break is the two characters `\n`).
 */

/** Shorter values are not treated as secrets (they would match ordinary text). */
export const MIN_SECRET_LENGTH = 8
export const REDACTED = '[redacted]'

/** What a secret may look like once encoded: each string is searched for literally. */
export function secretVariants(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8')
  const hex = bytes.toString('hex')
  const variants = new Set([secret, hex, hex.toUpperCase(), encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)])
  // base64 maps each group of 3 bytes to 4 characters, so a secret that starts k bytes into a
  // group encodes the same from its first whole group to its last one, whatever surrounds it.
  for (const offset of [0, 1, 2]) {
    const padded = Buffer.concat([Buffer.alloc(offset), bytes])
    const end = 4 * Math.floor(padded.length / 3)
    for (const encoding of ['base64', 'base64url'] as const) {
      const core = padded.toString(encoding).slice(offset === 0 ? 0 : 4, end)
      if (core.length >= MIN_SECRET_LENGTH) variants.add(core)
    }
  }
  return [...variants].filter((v) => v.length >= MIN_SECRET_LENGTH)
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
/** a line break between two characters of an encoded secret: real, or escaped as in JSON */
const BREAK = '(?:\\\\[rn]|[\\r\\n])*'

/** The secrets one process knows, and the one pattern that finds any of them. */
export class SecretRedactor {
  private readonly secrets = new Set<string>()
  /** undefined: to be built on the next redact; null: nothing to find */
  private pattern: RegExp | null | undefined = null

  /** Register secrets (empty, missing and short values are ignored). */
  add(...secrets: Array<string | undefined | null>): this {
    for (const secret of secrets) {
      if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH || this.secrets.has(secret)) continue
      this.secrets.add(secret)
      this.pattern = undefined
    }
    return this
  }

  get size(): number {
    return this.secrets.size
  }

  /** `text` with every known secret, in any of its encodings, replaced by [redacted]. */
  redact(text: string): string {
    const pattern = this.compiled()
    if (!pattern) return text
    pattern.lastIndex = 0
    // test() first: most text holds no secret, and replace() would copy it.
    if (!pattern.test(text)) return text
    pattern.lastIndex = 0
    return text.replace(pattern, REDACTED)
  }

  private compiled(): RegExp | null {
    if (this.pattern !== undefined) return this.pattern
    const variants = [...new Set([...this.secrets].flatMap(secretVariants))].sort((a, b) => b.length - a.length)
    this.pattern = variants.length === 0 ? null : new RegExp(variants.map((v) => [...v].map(escapeRegExp).join(BREAK)).join('|'), 'g')
    return this.pattern
  }
}
