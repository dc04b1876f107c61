// makima.db on disk, through the built CLI: created private (0600, its -wal/-shm too, in a 0700
// MAKIMA_HOME), a MAKIMA_HOME others can read is pointed out, and a database that cannot be used
// (a read-only MAKIMA_HOME, a damaged file) gets an error naming the file, the cause and the fix;
// `makima doctor --repair` moves a damaged one aside and starts a fresh one.
import {chmodSync, existsSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {binRun, runCli, runProcess, spawnCli, useCleanup} from '../support/cli.js'
import {testEnv, type TestEnv} from '../support/env.js'
import {waitFor} from '../support/processes.js'

useCleanup()

const mode = (file: string) => (statSync(file).mode & 0o777).toString(8)
const byName = (checks: {check: string}[]) => Object.fromEntries(checks.map((c) => [c.check, c]))

const isRoot = process.getuid?.() === 0
const SETPRIV = '/usr/bin/setpriv'

/**
 * Run makima so that file modes apply to it. root ignores them; without the capabilities that let
 * it (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH) it is an ordinary owner, as setpriv arranges.
 */
function runUnprivileged(args: string[], t: TestEnv) {
  if (!isRoot) return runCli(args, {env: t.env})
  return runProcess(SETPRIV, ['--bounding-set=-dac_override,-dac_read_search', '--', process.execPath, binRun, ...args], {env: t.env})
}

describe('makima.db on disk', () => {
  it("a first command creates MAKIMA_HOME 0700 and the database 0600, and SQLite's -wal/-shm files 0600 too", async () => {
    const t = testEnv()
    const home = join(t.root, 'fresh', 'makima-home')
    const env = {...t.env, MAKIMA_HOME: home}
    const created = await runCli(['task', 'create', 'later'], {env})
    expect(created.code, created.stderr).toBe(0)
    expect(mode(home)).toBe('700')
    expect(mode(join(home, 'makima.db'))).toBe('600')
    // While a makima process has the database open, its write-ahead log and index exist.
    const follow = spawnCli(['task', 'logs', '-f', created.stdout.trim()], {env})
    await waitFor(() => existsSync(join(home, 'makima.db-shm')) && existsSync(join(home, 'makima.db-wal')), {timeoutMs: 15_000, description: 'makima.db-wal and -shm'})
    expect([mode(join(home, 'makima.db-wal')), mode(join(home, 'makima.db-shm'))]).toEqual(['600', '600'])
    follow.kill()
    expect(created.stderr).toBe('')
  })

  it('a MAKIMA_HOME other users can read: one warning per command, and doctor says how to fix it', async () => {
    const t = testEnv()
    chmodSync(t.makimaHome, 0o755)
    const list = await runCli(['task', 'list'], {env: t.env})
    expect(list.code, list.stderr).toBe(0)
    expect(list.stderr).toBe(`Warning: MAKIMA_HOME ${t.makimaHome} is open to other users (mode 0755), and task plans and output are in it; fix: chmod 700 ${t.makimaHome}\n`)
    const doctor = await runCli(['doctor', '--json'], {env: t.env})
    expect(byName(JSON.parse(doctor.stdout)).home).toEqual({
      check: 'home',
      status: 'warn',
      detail: `MAKIMA_HOME ${t.makimaHome} is open to other users (mode 0755), and task plans and output are in it`,
      fix: `chmod 700 ${t.makimaHome}`,
    })
    expect(doctor.stderr).not.toContain('Warning')
  })
})

describe('a database makima cannot use', () => {
  it.skipIf(isRoot && !existsSync(SETPRIV))('a read-only MAKIMA_HOME: the error names the directory and the fix; doctor fails both checks without crashing', async () => {
    const t = testEnv()
    chmodSync(t.makimaHome, 0o500)
    const db = join(t.makimaHome, 'makima.db')
    const list = await runUnprivileged(['task', 'list'], t)
    expect(list.code).toBe(1)
    expect(list.stderr).toMatch(
      new RegExp(
        `^Error: cannot open the database ${db}: its directory ${t.makimaHome} is not writable \\(.*\\); make it writable \\(chmod u\\+w ${t.makimaHome}\\) or set MAKIMA_HOME \\(or localDb\\.path\\) to a directory you can write$`,
        'm',
      ),
    )
    const doctor = await runUnprivileged(['doctor', '--json'], t)
    expect(doctor.code).toBe(1)
    const checks = byName(JSON.parse(doctor.stdout))
    expect(checks.home).toMatchObject({status: 'fail', fix: `chmod u+w ${t.makimaHome}, or set MAKIMA_HOME to a directory you can write`})
    expect(checks.database).toMatchObject({status: 'fail', detail: expect.stringContaining(`its directory ${t.makimaHome} is not writable`)})
    expect(doctor.stderr).not.toMatch(/^\s+at /m)
    chmodSync(t.makimaHome, 0o700)
  })

  it('a damaged database: the error says to run doctor --repair, which moves it aside and starts a fresh one', async () => {
    const t = testEnv()
    const db = join(t.makimaHome, 'makima.db')
    const garbage = Buffer.from('this is not SQLite\n'.repeat(1000))
    writeFileSync(db, garbage)
    const list = await runCli(['task', 'list'], {env: t.env})
    expect(list.code).toBe(1)
    expect(list.stderr).toBe(
      `Error: the database ${db} is damaged (file is not a database): run \`makima doctor --repair\` to move it aside and start a fresh one (the task history stays in the copy)\n`,
    )
    const doctor = await runCli(['doctor', '--json'], {env: t.env})
    expect(byName(JSON.parse(doctor.stdout)).database).toMatchObject({status: 'fail', fix: expect.stringMatching(/^makima doctor --repair/)})

    const repair = await runCli(['doctor', '--repair'], {env: t.env})
    const moved = repair.stdout.match(/^ok {4}repair {4}moved the damaged database aside to (\S+) \(the task history stays in that copy\) and started a fresh database (\S+)$/m)
    expect(moved, repair.stdout).not.toBeNull()
    const [, copy, fresh] = moved!
    expect(copy).toMatch(new RegExp(`^${db}\\.corrupt-\\d{4}-\\d\\d-\\d\\dT[\\d-]+Z$`))
    expect(fresh).toBe(db)
    expect(readFileSync(copy)).toEqual(garbage)
    expect(repair.stdout).toMatch(/^ok {4}database {2}.*schema \d+, 0 tasks$/m)

    const after = await runCli(['task', 'list', '--json'], {env: t.env})
    expect(after.code, after.stderr).toBe(0)
    expect(JSON.parse(after.stdout)).toEqual([])
    const again = await runCli(['doctor', '--repair', '--json'], {env: t.env})
    expect(byName(JSON.parse(again.stdout)).repair).toMatchObject({status: 'ok', detail: `the database ${db} is not damaged: nothing to repair`})
  })
})
