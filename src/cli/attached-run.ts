import {isEnded, type TaskRecord} from '../lib/store/task-record.js'
import {appendStepSummary, plainOutput, summaryLine} from './ci-output.js'
import type {TaskManager} from '../lib/tasks/manager.js'
import {prepareWithProgress} from '../lib/ui/setup-progress.js'
import {TaskView, useColor} from '../lib/ui/task-view.js'

/**
 * Run a task in this process with its transcript on the terminal (on stderr with --json, so
 * stdout keeps the one JSON value). Ctrl-C (or SIGTERM) interrupts the task and every process it
 * started; the caller exits 130.
 */
export async function attachTask(manager: TaskManager, task: TaskRecord, options: {json: boolean}): Promise<{task: TaskRecord; interrupted: boolean}> {
  const out = options.json ? process.stderr : process.stdout
  // In CI (or into a pipe or file): no spinner, no color, each line written as it comes.
  const plain = plainOutput(out as {isTTY?: boolean}, process.env)
  const view = new TaskView({out, color: !plain && useColor(out, process.env), width: (out as {columns?: number}).columns || undefined, lineByLine: plain})
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
      if (!options.json && !plain) {
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
    view.flush()
    process.stderr.write(`${summaryLine(final, view.costUsd)}\n`)
    appendStepSummary(process.env, final, view.costUsd)
    return {task: final, interrupted}
  } finally {
    view.flush()
    unsubscribe()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('SIGHUP', onSignal)
  }
}
