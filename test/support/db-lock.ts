// Another process holding the write lock of a makima database, as a backup tool or an `sqlite3`
// shell would: a real node process (tracked for cleanup) in BEGIN IMMEDIATE for a given time.
import {createRequire} from 'node:module'

import {spawnProcess} from './cli.js'

const betterSqlite3 = createRequire(import.meta.url).resolve('better-sqlite3')

const HOLDER = `
const Database = require(${JSON.stringify(betterSqlite3)})
const [file, ms] = process.argv.slice(1)
const db = new Database(file)
db.pragma('busy_timeout = 60000')
db.exec('BEGIN IMMEDIATE')
process.stdout.write('locked\\n')
setTimeout(() => {
  db.exec('COMMIT')
  db.close()
  process.stdout.write('released\\n')
}, Number(ms))
`

export interface WriteLock {
  /** Resolves with Date.now() (in this process) once the holder has committed. */
  released: Promise<number>
}

/** Hold the write lock of `file` for `ms` from another process; resolves once it is held. */
export async function holdWriteLock(file: string, ms: number): Promise<WriteLock> {
  const holder = spawnProcess(process.execPath, ['-e', HOLDER, file, String(ms)], {env: {...process.env, NODE_OPTIONS: ''}})
  await holder.waitForOutput(/^locked$/m, 30_000, 'stdout')
  const released = holder.waitForOutput(/^released$/m, ms + 30_000, 'stdout').then(() => Date.now())
  released.catch(() => {}) // awaited by the tests that care
  return {released}
}
