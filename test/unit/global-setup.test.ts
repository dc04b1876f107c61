// The check vitest's globalSetup runs before any test: is the build older than its sources?
import {mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {afterEach, describe, expect, test} from 'vitest'

import {BUILD_INPUTS, BUILD_OUTPUTS, staleBuild} from '../support/global-setup.js'

const roots: string[] = []
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, {recursive: true, force: true})
})

const T0 = new Date('2026-01-01T00:00:00Z')
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000)

/** A project dir: sources written at T0, then the build outputs at T0 + 10 s. */
function project(): {root: string; touch: (rel: string, when: Date) => void} {
  const root = mkdtempSync(join(tmpdir(), 'makima-dist-check-'))
  roots.push(root)
  const touch = (rel: string, when: Date) => {
    const file = join(root, rel)
    mkdirSync(dirname(file), {recursive: true})
    writeFileSync(file, rel)
    utimesSync(file, when, when)
  }
  for (const rel of [...BUILD_INPUTS, 'src/index.ts', 'src/lib/deep/file.ts']) touch(rel, T0)
  for (const rel of BUILD_OUTPUTS) touch(rel, at(10))
  return {root, touch}
}

describe('staleBuild', () => {
  test('a build newer than every source is current', () => {
    expect(staleBuild(project().root)).toBeNull()
  })

  test('a source file changed after the build: names the newest one', () => {
    const {root, touch} = project()
    touch('src/index.ts', at(20))
    touch('src/lib/deep/file.ts', at(30))
    expect(staleBuild(root)).toBe('dist/ is older than src/lib/deep/file.ts: run npm run build')
  })

  test.each(BUILD_INPUTS)('%s changed after the build', (input) => {
    const {root, touch} = project()
    touch(input, at(20))
    expect(staleBuild(root)).toBe(`dist/ is older than ${input}: run npm run build`)
  })

  test('the oldest output counts: a manifest written later does not hide an old bundle', () => {
    const {root, touch} = project()
    touch('src/index.ts', at(20))
    touch('oclif.manifest.json', at(30))
    expect(staleBuild(root)).toBe('dist/ is older than src/index.ts: run npm run build')
  })

  test('no build at all', () => {
    const {root} = project()
    rmSync(join(root, 'dist'), {recursive: true})
    expect(staleBuild(root)).toBe('dist/bundle/cli.js is missing: run npm run build')
  })
})
