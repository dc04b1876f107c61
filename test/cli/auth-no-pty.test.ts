// `makima auth login` where the pseudo-terminal cannot load: @lydell/node-pty is there but its
// per-platform binary package (@lydell/node-pty-<platform>-<arch>, an optional dependency) is not,
// as after `npm install --omit=optional`. The real thing: the built CLI in a package layout whose
// node_modules holds the project's packages (symlinks) and a copy of @lydell/node-pty alone (a
// copy: a symlink would resolve the binary package next to the original).
import {cpSync, mkdirSync, readdirSync, symlinkSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {runProcess, useCleanup} from '../support/cli.js'
import {projectRoot, testEnv} from '../support/env.js'

useCleanup()

describe('auth login without the pseudo-terminal binary', () => {
  test('exits 1 naming @lydell/node-pty, the missing platform package and the fix', async () => {
    const t = testEnv()
    const root = join(t.root, 'makima')
    for (const entry of ['package.json', 'oclif.manifest.json', 'bin', 'dist']) cpSync(join(projectRoot, entry), join(root, entry), {recursive: true})
    const modules = join(root, 'node_modules')
    mkdirSync(join(modules, '@lydell'), {recursive: true})
    for (const entry of readdirSync(join(projectRoot, 'node_modules'))) {
      if (entry !== '@lydell' && entry !== '.cache') symlinkSync(join(projectRoot, 'node_modules', entry), join(modules, entry))
    }
    cpSync(join(projectRoot, 'node_modules', '@lydell', 'node-pty'), join(modules, '@lydell', 'node-pty'), {recursive: true})

    const r = await runProcess(process.execPath, [join(root, 'bin', 'run.js'), 'auth', 'login', '--code', 'SOME-CODE'], {env: t.env, cwd: t.root, timeoutMs: 30_000})
    expect(r.code).toBe(1)
    const platformPackage = `@lydell/node-pty-${process.platform}-${process.arch}`
    expect(r.stderr).toContain('could not load @lydell/node-pty (the pseudo-terminal `claude setup-token` runs in)')
    expect(r.stderr).toContain(`Its prebuilt binary comes from the optional dependency ${platformPackage}`)
    expect(r.stderr).toContain(`in ${root}/node_modules`)
    expect(r.stderr).toContain('reinstall makima without --omit=optional')
    expect(r.stderr).toContain('run `claude setup-token` yourself and set CLAUDE_CODE_OAUTH_TOKEN')
    expect(r.stdout).not.toContain('Open this URL')
  })
})
