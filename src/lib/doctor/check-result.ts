import type {Config} from '../config/types.js'
import type {Store} from '../store/store.js'

/** One line of `makima doctor`. */
export type CheckStatus = 'ok' | 'warn' | 'fail'

export interface CheckResult {
  check: string
  status: CheckStatus
  detail: string
  /** what to do about a warn or fail */
  fix?: string
}

export interface DoctorContext {
  config: Config
  env: Record<string, string | undefined>
  nodeVersion: string
}

/** Run a check on the database, closed after; undefined when it cannot be opened (the database check reports that). */
export async function withDoctorStore(ctx: DoctorContext, check: (store: Store) => CheckResult | undefined): Promise<CheckResult | undefined> {
  const {Store} = await import('../store/store.js')
  let store: Store
  try {
    store = Store.open(ctx.config.localDb.path)
  } catch {
    return undefined
  }
  try {
    return check(store)
  } finally {
    store.close()
  }
}
