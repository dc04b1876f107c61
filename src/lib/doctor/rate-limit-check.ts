import {withDoctorStore, type CheckResult, type DoctorContext} from './check-result.js'

/**
 * The machine's rate-limit hold (issue 19 §3; tasks/rate-hold.ts): "rate limited until 15:00
 * (five_hour), 2 tasks held" as a warning while it lasts.
 */
export async function checkRateLimit(ctx: DoctorContext): Promise<CheckResult | undefined> {
  const {holdLine} = await import('../ui/rate-limit-format.js')
  return withDoctorStore(ctx, (store) => {
    let hold
    try {
      hold = store.rateLimit.current()
    } catch {
      return undefined // an older database: the database check reports it
    }
    if (!hold) return {check: 'ratelimit', status: 'ok', detail: 'not rate limited'}
    return {
      check: 'ratelimit',
      status: 'warn',
      detail: holdLine(hold, store.tasks.queueLength())!,
      fix: 'nothing to do: new tasks are queued and start after the reset; running tasks go on (Claude Code retries)',
    }
  })
}
