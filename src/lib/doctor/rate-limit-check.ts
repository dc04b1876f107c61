import type {CheckResult, DoctorContext} from './check-result.js'

/**
 * The machine's rate-limit hold (issue 19 §3; tasks/rate-hold.ts): "rate limited until 15:00
 * (five_hour), 2 tasks held" as a warning while it lasts; nothing to say otherwise.
 */
export async function checkRateLimit(ctx: DoctorContext): Promise<CheckResult | undefined> {
  const {Store} = await import('../store/store.js')
  const {holdLine} = await import('../ui/rate-limit-format.js')
  let store
  try {
    store = Store.open(ctx.config.localDb.path)
  } catch {
    return undefined // the database check reports it
  }
  try {
    const hold = store.rateLimit.current()
    if (!hold) return {check: 'ratelimit', status: 'ok', detail: 'not rate limited'}
    return {
      check: 'ratelimit',
      status: 'warn',
      detail: holdLine(hold, store.tasks.queueLength())!,
      fix: 'nothing to do: new tasks are queued and start after the reset; running tasks go on (Claude Code retries)',
    }
  } catch {
    return undefined // an older database: the database check reports it
  } finally {
    store.close()
  }
}
