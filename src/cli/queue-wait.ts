import {setTimeout as sleep} from 'node:timers/promises'

import {isEnded, type TaskRecord} from '../lib/store/task-record.js'
import type {TaskManager} from '../lib/tasks/manager.js'
import {holdText} from '../lib/tasks/rate-hold.js'

/**
 * Wait in the machine's queue for a task this process queued (attached `--queue`): every 200 ms
 * reap dead runners and promote what fits (manager.promoteQueued, which starts this task here
 * once it is first in line and a slot is free), showing "queued (N ahead)" on stderr when N
 * changes. Ctrl-C (or SIGTERM/SIGHUP) removes the task from the queue. Returns the task once it
 * is `initializing` (run it here) or ended (interrupted while queued).
 */
export async function waitInQueue(manager: TaskManager, task: TaskRecord): Promise<{task: TaskRecord; interrupted: boolean}> {
  let interrupted = false
  let leaving: Promise<unknown> | undefined
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return
    interrupted = true
    process.stderr.write(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: removing task ${task.shortId} from the queue...\n`)
    leaving = manager.interrupt(task.id).catch(() => undefined)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('SIGHUP', onSignal)
  try {
    let shown: string | null = null
    for (;;) {
      if (leaving) await leaving
      if (!interrupted) manager.reap() // promotes: this task too when its turn has come
      const current = manager.store.tasks.require(task.id)
      if (current.state !== 'queued' || isEnded(current.state)) {
        if (interrupted && !isEnded(current.state)) {
          // promoted just before Ctrl-C: end it like an attached task's interrupt
          return {task: await manager.interrupt(task.id).catch(() => manager.store.tasks.require(task.id)), interrupted}
        }
        return {task: current, interrupted}
      }
      const ahead = (manager.store.tasks.queuePosition(current) ?? 1) - 1
      const hold = manager.rateLimitHold()
      const why = hold ? `held: ${holdText(hold)}` : `queued (${ahead} ahead)`
      if (why !== shown) {
        process.stderr.write(`task ${current.shortId} ${why}\n`)
        shown = why
      }
      await sleep(200)
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('SIGHUP', onSignal)
  }
}
