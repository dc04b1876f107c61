import {describe, expect, test} from 'vitest'

import {MakimaError} from '../../src/lib/errors.js'
import {redactCredentials} from '../../src/lib/redact.js'
import {toTaskJson} from '../../src/lib/store/task-record.js'
import {NO_USAGE} from '../../src/lib/store/usage-store.js'

describe('credentials in URLs', () => {
  test('user and password (or token) are replaced, the rest of the text is kept', () => {
    expect(redactCredentials('could not clone https://x-access-token:ghp_abc123@github.com/o/r.git: denied')).toBe('could not clone https://***@github.com/o/r.git: denied')
    expect(redactCredentials('ssh://git@host:22/r and https://tok@h/x')).toBe('ssh://***@host:22/r and https://***@h/x')
    expect(redactCredentials('git@github.com:o/r.git /home/me/repo https://github.com/o/r')).toBe('git@github.com:o/r.git /home/me/repo https://github.com/o/r')
  })

  test('a MakimaError message never carries them', () => {
    expect(new MakimaError('FAILED', 'fetch https://u:p4ss@h/r failed').message).toBe('fetch https://***@h/r failed')
  })

  test('task JSON shows the repository without them', () => {
    const json = toTaskJson({repoSource: 'https://u:p4ss@h/r.git'} as Parameters<typeof toTaskJson>[0], NO_USAGE)
    expect(json.repoSource).toBe('https://***@h/r.git')
  })
})
