// makima doctor's disk check: a warning when MAKIMA_HOME's disk has less than 10% free.
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {checkDisk, diskResult} from '../../src/lib/doctor/disk-check.js'

describe('doctor disk check', () => {
  test('warns below 10% free, with a fix naming task prune', () => {
    const low = diskResult('/h', 9 * 1024 ** 3, 100 * 1024 ** 3)
    expect(low.status).toBe('warn')
    expect(low.detail).toContain('only 9.0 GiB of 100.0 GiB free (9.0%)')
    expect(low.fix).toContain('makima task prune')
    expect(diskResult('/h', 10 * 1024 ** 3, 100 * 1024 ** 3).status).toBe('ok')
  })

  test('reads the real disk of MAKIMA_HOME', () => {
    const home = mkdtempSync(join(tmpdir(), 'makima-disk-'))
    try {
      const result = checkDisk({config: {home}} as Parameters<typeof checkDisk>[0])
      expect(result?.check).toBe('disk')
      expect(result?.detail).toContain(home)
    } finally {
      rmSync(home, {recursive: true, force: true})
    }
  })
})
