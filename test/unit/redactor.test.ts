// The SecretRedactor (src/lib/secrets/redactor.ts): every known secret out of stored, sent and
// logged text, raw and in the encodings a shell makes without trying.
import {describe, expect, test} from 'vitest'

import {SecretRedactor} from '../../src/lib/secrets/redactor.js'

describe('secret encodings', () => {
  const secret = 'mk-secret-0123456789abcdef+/?&'
  const redactor = new SecretRedactor().add(secret)
  const bytes = Buffer.from(secret)

  test('raw, hex (either case), URL and JSON escaping', () => {
    for (const encoded of [secret, bytes.toString('hex'), bytes.toString('hex').toUpperCase(), encodeURIComponent(secret)]) {
      expect(redactor.redact(`before ${encoded} after`)).toBe('before [redacted] after')
    }
  })

  test('base64 and base64url at every byte alignment, also wrapped across lines (real or JSON-escaped breaks)', () => {
    for (const prefix of ['', 'a', 'ab', '{"server":{"apiKey":"']) {
      for (const encoding of ['base64', 'base64url'] as const) {
        const encoded = Buffer.from(`${prefix}${secret}"}}`).toString(encoding)
        const out = redactor.redact(encoded)
        expect(out, `${encoding} after ${JSON.stringify(prefix)}`).toContain('[redacted]')
        expect(Buffer.from(out.replace('[redacted]', ''), encoding).toString('latin1')).not.toContain(secret.slice(2, -2))
        const wrapped = encoded.replace(/(.{7})/g, '$1\n')
        expect(redactor.redact(JSON.stringify(wrapped))).toContain('[redacted]')
        expect(redactor.redact(wrapped.replaceAll('\\n', '\r\n'))).toContain('[redacted]')
      }
    }
  })

  test('text without a secret comes back as it was; a new secret is found once added', () => {
    const text = JSON.stringify({type: 'assistant', text: 'nothing to hide'})
    expect(redactor.redact(text)).toBe(text)
    const later = 'added-later-secret-42'
    expect(redactor.add(later).redact(`x ${Buffer.from(later).toString('base64')} y`)).toBe('x [redacted] y')
  })
})
