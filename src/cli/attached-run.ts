import {isEnded, type TaskRecord} from '../lib/store/task-record.js'
import type {TaskManager} from '../lib/tasks/manager.js'
import {prepareWithProgress} from '../lib/ui/setup-progress.js'
import {TaskView, useColor} from '../lib/ui/task-view.js'

/**
 * Run a task in this process with its transcript on the terminal (on stderr with --json, so
 * stdout keeps the one JSON value). Ctrl-C (or SIGTERM) interrupts the task and every process it
 * started; the caller exits 130.
 */
export async function attachTask(
  manager: TaskManager,
  task: TaskRecord,
  options: {json: boolean},
): Promise<{task: TaskRecord; interrupted: boolean}> {
  const out = options.json ? process.stderr : process.stdout
  const view = new TaskView({out, color: useColor(out, process.env), width: (out as {columns?: number}).columns || undefined})
  const unsubscribe = manager.onEvent(view.onEvent)
  let interrupted = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return
    interrupted = true
    view.flush()
    process.stderr.write(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: interrupting task ${task.shortId}...\n`)
    void manager.interruptLocal()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('SIGHUP', onSignal)
  try {
    let final: TaskRecord
    try {
      if (!options.json && (out as {isTTY?: boolean}).isTTY) {
        view.quietProgress = true
        view.flush()
        await prepareWithProgress(manager, task.id)
        view.quietProgress = false
      }
      final = await manager.run(task.id)
    } catch (error) {
      // A set-up failure has already ended the task: report it as the task's outcome.
      const current = manager.store.tasks.get(task.id)
      if (!current || !isEnded(current.state)) throw error
      final = current
    }
    const summary =
      final.state === 'completed'
        ? `Task ${final.shortId} completed. Worktree: ${final.worktreePath}`
        : `Task ${final.shortId} ${final.state}${final.error ? `: ${final.error}` : ''}`
    view.flush()
    process.stderr.write(`${summary}\n`)
    return {task: final, interrupted}
  } finally {
    view.flush()
    unsubscribe()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('SIGHUP', onSignal)
  }
}
