import type {Config} from '../config/types.js'

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
