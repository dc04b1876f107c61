// A better-sqlite3 built for another Node.js (NODE_MODULE_VERSION mismatch): every command that
// opens the database, and `makima doctor`, say what to run. The real thing: the built CLI run by
// Node 22 (24 when the tests run on 22; test/support/other-node.ts) against this node_modules.
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {MakimaError} from '../../src/lib/errors.js'
import {databaseError, databaseProblem} from '../../src/lib/store/database-errors.js'
import {binRun, runProcess, useCleanup} from '../support/cli.js'
import {projectRoot, testEnv} from '../support/env.js'
import {cachedNodeFolder, otherNodeMajor} from '../support/other-node.js'

useCleanup()

/** The text Node 22 gave for better-sqlite3 built on Node 20 (seen here). */
const REAL_TEXT = `The module '/opt/makima/node_modules/better-sqlite3/build/Release/better_sqlite3.node'
was compiled against a different Node.js version using
NODE_MODULE_VERSION 115. This version of Node.js requires
NODE_MODULE_VERSION 127. Please try re-compiling or re-installing
the module (for instance, using \`npm rebuild\` or \`npm install\`).`

describe('a native module built for another Node.js', () => {
  it('maps the dlopen error to the versions and the command to run', () => {
    const error = Object.assign(new Error(REAL_TEXT), {code: 'ERR_DLOPEN_FAILED'})
    expect(databaseProblem(error)).toBe('native')
    const mapped = databaseError('/home/u/.makima/makima.db', error)
    expect(mapped).toBeInstanceOf(MakimaError)
    expect(mapped.message).toContain(`better-sqlite3 was built for another Node.js (NODE_MODULE_VERSION 115; Node ${process.version} requires 127)`)
    expect(mapped.message).toContain(`run \`cd ${projectRoot} && npm rebuild better-sqlite3\``)
    expect(databaseProblem(mapped)).toBe('native')
  })

  const other = cachedNodeFolder(otherNodeMajor())
  if (!other) console.warn(`skipped: no Node ${otherNodeMajor()} in the cache; run node scripts/fetch-node.mjs ${otherNodeMajor()} (.ci/run does)`)
  it.skipIf(!other)('task list and doctor, run by another Node, say exactly what to run', async () => {
    const node = join(other!, 'bin', 'node')
    const t = testEnv()
    const list = await runProcess(node, [binRun, 'task', 'list'], {env: t.env, timeoutMs: 30_000})
    expect(list.code).toBe(1)
    expect(list.stderr).toMatch(/better-sqlite3 was built for another Node\.js \(NODE_MODULE_VERSION \d+; Node v\d+\.\d+\.\d+ requires \d+\)/)
    expect(list.stderr).toContain(`cd ${projectRoot} && npm rebuild better-sqlite3`)

    const doctor = await runProcess(node, [binRun, 'doctor', '--json'], {env: t.env, timeoutMs: 30_000})
    expect(doctor.code).toBe(1)
    const checks = Object.fromEntries((JSON.parse(doctor.stdout) as {check: string}[]).map((c) => [c.check, c]))
    expect(checks.node).toMatchObject({status: 'ok'})
    expect(checks.database).toMatchObject({status: 'fail', fix: `cd ${projectRoot} && npm rebuild better-sqlite3`})
  })
})
