import {withDoctorStore, type CheckResult, type DoctorContext} from './check-result.js'

/**
 * The daemon on this MAKIMA_HOME, in the numbers its /metrics serves (daemon-numbers.ts): running
 * or not, connection, tasks, slots, outbox backlog. A backlog whose oldest message is over ten
 * minutes old means the server has not acknowledged anything for that long: a warning.
 */
export async function checkDaemon(ctx: DoctorContext): Promise<CheckResult | undefined> {
  const {daemonNumbers} = await import('../daemon/daemon-numbers.js')
  const {isSameProcessAlive} = await import('../os/process-table.js')
  return withDoctorStore(ctx, (store) => {
    const claim = JSON.parse(store.getMeta('daemon.process') ?? 'null') as {pid: number; start: string | null} | null
    const numbers = daemonNumbers(store, ctx.config)
    const running = claim !== null && isSameProcessAlive(claim.pid, claim.start)
    const state = JSON.parse(store.getMeta('daemon.state') ?? 'null') as {state: string; pid?: number} | null
    const connection = running && state?.pid === claim?.pid ? (state?.state ?? 'starting') : 'not running'
    const active = numbers.tasksByState.running + numbers.tasksByState.paused + numbers.tasksByState.starting + numbers.tasksByState.initializing
    const {messages, oldestUnackedAgeSecs} = numbers.outbox
    const backlog = messages === 0 ? 'outbox empty' : `outbox ${messages} unacknowledged, oldest ${Math.round(oldestUnackedAgeSecs ?? 0)}s old`
    const detail = `${running ? `running (pid ${claim!.pid}), ${connection}` : 'not running'}; ${active} active server task(s), slots ${numbers.slots.used}/${numbers.slots.max}; ${backlog}`
    if (messages > 0 && (oldestUnackedAgeSecs ?? 0) > 600) {
      return {check: 'daemon', status: 'warn', detail, fix: running ? 'check the server connection (makima daemon status)' : 'start makima daemon: it sends what the outbox holds'}
    }
    return {check: 'daemon', status: 'ok', detail}
  })
}
