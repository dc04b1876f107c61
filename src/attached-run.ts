import type {TaskRecord} from './lib/store/task-record.js'
import type {TaskManager} from './lib/tasks/task-manager.js'
import {TaskView, useColor} from './lib/ui/task-view.js'

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
  const view = new TaskView({out, color: useColor(out, process.env), width: (out as {columns?: number}).columns})
  const unsubscribe = manager.onEvent(view.onEvent)
  let interrupted = false
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return
    interrupted = true
    process.stderr.write(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: interrupting task ${task.shortId}...\n`)
    void manager.interruptLocal()
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('SIGHUP', onSignal)
  try {
    const final = await manager.run(task.id)
    const summary =
      final.state === 'completed'
        ? `Task ${final.shortId} completed. Worktree: ${final.worktreePath}`
        : `Task ${final.shortId} ${final.state}${final.error ? `: ${final.error}` : ''}`
    process.stderr.write(`${summary}\n`)
    return {task: final, interrupted}
  } finally {
    unsubscribe()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('SIGHUP', onSignal)
  }
}
