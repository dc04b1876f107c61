import type {Config} from '../config/types.js'
import type {Store} from '../store/store.js'
import {isActive} from '../store/task-record.js'
import {handOverSnapshot} from '../tasks/checkpoints/hand-over.js'
import type {TaskManager} from '../tasks/manager.js'
import type {OutboxWriter} from './event-sink.js'
import type {Logger} from './logger.js'
import {outgoing} from './messages.js'

export interface DrainContext {
  config: Config
  store: Store
  manager: TaskManager
  writer: OutboxWriter
  log: Logger
  /** the daemon's own tasks (origin daemon) this process runs */
  taskIds: () => string[]
  /** commands being handled when the drain began that may start a task (a spawnTask still cloning its repository, a sendMessage) */
  inFlight?: () => Promise<unknown>[]
  /** tasks those commands set up but did not start (the daemon holds a run back while it drains) */
  heldBack?: () => string[]
  /** resolves when a second signal asks to stop at once */
  hurry: Promise<void>
}

export interface DrainSummary {
  tasks: number
  handedOver: number
  /** every message the server had to have was acked before the budget ran out */
  acked: boolean
  seconds: number
}

/**
 * A SIGTERMed daemon gives its tasks back (docs/protocol.md "Drain"): for each running or paused
 * task, its processes are stopped (SIGSTOP, so the snapshot is consistent), the work so far is
 * snapshotted against the task's baseSha and sent as checkpointCreated with the patch, then the
 * task is ended as `interrupted` with an error that says so. Then the daemon waits until the
 * server has acked every message, within daemon.drainGraceSecs in all; what stays unacked is in
 * the outbox for the next start on this volume. The daemon has already stopped admitting tasks.
 */
export async function drainTasks(ctx: DrainContext): Promise<DrainSummary> {
  const started = Date.now()
  const deadline = started + ctx.config.daemon.drainGraceSecs * 1000
  const ids = ctx.taskIds().filter((id) => {
    const task = ctx.store.tasks.get(id)
    return task !== undefined && isActive(task.state)
  })
  let handedOver = 0
  const drainOne = async (id: string): Promise<void> => {
    let note = 'no snapshot could be taken'
    try {
      const task = ctx.store.tasks.require(id)
      if (task.state === 'running') await ctx.manager.pause(id).catch(() => undefined)
      const handOver = await handOverSnapshot(ctx.store, ctx.config, ctx.store.tasks.require(id))
      note = handOver.note
      if (handOver.payload) ctx.writer.enqueue(outgoing('checkpointCreated', handOver.payload, id))
      if (handOver.payload?.patchData) handedOver += 1
    } catch (error) {
      note = `no snapshot could be taken (${(error as Error).message})`
    }
    const ended = await ctx.manager.interrupt(id, `drained: the daemon was shut down (SIGTERM) and ended this task; ${note}`)
    ctx.log('info', `drained task ${id.slice(0, 8)}: ${note}`, {taskId: id, state: ended.state})
  }
  const handOver = (id: string) => drainOne(id).catch((error) => ctx.log('error', `draining task ${id} failed: ${(error as Error).message}`))
  // a task whose spawnTask was still being set up (cloning, applying a patch) when the drain
  // began is never started: once set up it is handed over like the others
  let late: string[] = []
  const held = settleInFlight(ctx, deadline).then((heldIds) => Promise.all((late = heldIds).map(handOver)))
  await Promise.race([Promise.all([...ids.map(handOver), held]), ctx.hurry])
  ids.push(...late)
  ctx.writer.flush()
  const acked = await waitForAcks(ctx, deadline)
  const seconds = (Date.now() - started) / 1000
  ctx.log(
    'info',
    `drain done in ${seconds.toFixed(1)}s: ${ids.length} task(s) ended, ${handedOver} handed over with a patch; ${acked ? 'the server acked every message' : `${ctx.store.outbox.depth.messages} message(s) left unacked in the outbox for the next start`}`,
  )
  return {tasks: ids.length, handedOver, acked, seconds}
}

/** Waits (until the deadline at most) for the commands in flight; returns the tasks they held back. */
async function settleInFlight(ctx: DrainContext, deadline: number): Promise<string[]> {
  const inFlight = ctx.inFlight?.() ?? []
  if (inFlight.length > 0) {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([Promise.allSettled(inFlight), new Promise((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))))])
    clearTimeout(timer)
  }
  return ctx.heldBack?.() ?? []
}

async function waitForAcks(ctx: DrainContext, deadline: number): Promise<boolean> {
  let hurried = false
  void ctx.hurry.then(() => (hurried = true))
  while (!hurried && ctx.store.outbox.depth.messages > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return ctx.store.outbox.depth.messages === 0
}
