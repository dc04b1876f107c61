// `makima doctor --repair`: a damaged database ("database disk image is malformed", "file is not a
// database") is moved aside whole, history and all, and a fresh one takes its place.
import {databaseError, databaseProblem} from '../store/database-errors.js'
import {moveDatabaseAside} from '../store/database-file.js'
import type {CheckResult} from './checks.js'

/** Repair the database `file` when it is damaged; a database that is not is left alone. */
export async function repairDatabase(file: string): Promise<CheckResult> {
  const {Store} = await import('../store/store.js')
  try {
    const store = Store.open(file)
    try {
      // Reads every page: damage that opening and listing tasks do not touch shows here.
      const problems = (store.db.pragma('quick_check') as {quick_check: string}[]).map((r) => r.quick_check).filter((r) => r !== 'ok')
      if (problems.length > 0) throw Object.assign(new Error(`database disk image is malformed (quick_check: ${problems.slice(0, 3).join('; ')})`), {code: 'SQLITE_CORRUPT'})
    } finally {
      store.close()
    }
    return {check: 'repair', status: 'ok', detail: `the database ${file} is not damaged: nothing to repair`}
  } catch (error) {
    if (databaseProblem(error) !== 'damaged') {
      const reason = databaseError(file, error).message
      return {check: 'repair', status: 'fail', detail: `--repair fixes a damaged database only: ${reason}`, fix: 'see the database check below'}
    }
  }
  let copy: string
  try {
    copy = moveDatabaseAside(file)
    Store.open(file).close()
  } catch (error) {
    return {check: 'repair', status: 'fail', detail: `could not move the damaged database ${file} aside: ${(error as Error).message}`, fix: `move ${file} (and its -wal and -shm files) away yourself`}
  }
  return {
    check: 'repair',
    status: 'ok',
    detail: `moved the damaged database aside to ${copy} (the task history stays in that copy) and started a fresh database ${file}`,
  }
}
