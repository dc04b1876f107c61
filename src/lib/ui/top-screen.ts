/**
 * The live `makima top` screen: redraws the task table every interval, moves a selection with the
 * arrow keys (or j/k) and acts on the selected task: p pause, r resume, i interrupt (after y/n on
 * the status line), l or Enter shows `makima task logs -f` in the same terminal, q quits. The
 * terminal is restored on every way out (q, Ctrl-C, SIGTERM/SIGHUP, an error).
 */
import {type ChildProcess, spawn} from 'node:child_process'

import {toMakimaError} from '../errors.js'
import {type Key, TerminalSession, type TerminalStreams} from './top-keys.js'
import type {TopRow} from './top-rows.js'
import {renderFrame} from './top-view.js'

export interface TopActions {
  /** the rows to show now (store and /proc are read again) */
  rows(): TopRow[]
  pause(id: string): Promise<TopRow['state']>
  resume(id: string): Promise<TopRow['state']>
  interrupt(id: string): Promise<TopRow['state']>
  /** the command showing a task's log: argv[0] and the rest (the task id is appended) */
  logsCommand: readonly string[]
}

export interface TopScreenOptions extends TerminalStreams {
  actions: TopActions
  intervalSecs: number
  all: boolean
}

type Action = 'pause' | 'resume' | 'interrupt'
const DOING: Record<Action, string> = {pause: 'Pausing', resume: 'Resuming', interrupt: 'Interrupting'}

export class TopScreen {
  private readonly term: TerminalSession
  private rows: TopRow[] = []
  private selectedId?: string
  private status = ''
  private confirming?: TopRow
  private busy = false
  private inLogs = false
  private timer?: NodeJS.Timeout
  private logsChild?: ChildProcess
  private finished = false
  private resolveDone!: (code: number) => void

  constructor(private readonly options: TopScreenOptions) {
    this.term = new TerminalSession(options)
  }

  /** Runs until q / Ctrl-C / a signal; resolves with the exit code (0, or 130 on Ctrl-C). */
  async run(): Promise<number> {
    const done = new Promise<number>((resolve) => (this.resolveDone = resolve))
    const signals: [NodeJS.Signals, () => void][] = [
      // While the log is shown, Ctrl-C is for `task logs` (it ends it and top comes back).
      ['SIGINT', () => !this.inLogs && this.finish(130)],
      ['SIGTERM', () => this.finish(143)],
      ['SIGHUP', () => this.finish(129)],
    ]
    for (const [signal, handler] of signals) process.on(signal, handler)
    const onResize = () => this.draw()
    this.options.output.on('resize', onResize)
    try {
      this.show()
      return await done
    } finally {
      this.stopTimer()
      this.options.output.off('resize', onResize)
      for (const [signal, handler] of signals) process.off(signal, handler)
      this.term.leave()
    }
  }

  private finish(code: number): void {
    if (this.finished) return
    this.finished = true
    this.logsChild?.kill('SIGTERM')
    this.resolveDone(code)
  }

  private show(): void {
    if (this.finished) return
    this.term.enter(this.onKey)
    this.refresh()
    this.timer = setInterval(() => this.refresh(), this.options.intervalSecs * 1000)
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
  }

  private refresh(): void {
    try {
      this.rows = this.options.actions.rows()
    } catch (error) {
      this.status = `Error: ${toMakimaError(error).message}`
    }
    if (!this.rows.some((r) => r.id === this.selectedId)) this.selectedId = this.rows[0]?.id
    this.draw()
  }

  private draw(): void {
    if (!this.term.active) return
    const {output} = this.options
    this.term.write(
      renderFrame(this.rows, {
        width: output.columns || 80,
        height: output.rows || 24,
        selectedId: this.selectedId,
        status: this.status,
        all: this.options.all,
        intervalSecs: this.options.intervalSecs,
      }),
    )
  }

  private get selected(): TopRow | undefined {
    return this.rows.find((r) => r.id === this.selectedId)
  }

  private readonly onKey = (key: Key): void => {
    if (key === 'ctrl-c') return this.finish(130)
    if (this.confirming) {
      const task = this.confirming
      this.confirming = undefined
      if (key === 'y' || key === 'Y') void this.act('interrupt', task)
      else this.setStatus(`Task ${task.shortId} not interrupted.`)
      return
    }
    switch (key) {
      case 'q':
        return this.finish(0)
      case 'up':
      case 'k':
        return this.move(-1)
      case 'down':
      case 'j':
        return this.move(1)
      case 'p':
        return this.withSelected((t) => void this.act('pause', t))
      case 'r':
        return this.withSelected((t) => void this.act('resume', t))
      case 'i':
        return this.withSelected((t) => {
          if (this.busy) return this.setStatus('Busy: wait for the current action to finish.')
          this.confirming = t
          this.setStatus(`Interrupt task ${t.shortId} (${t.name})? It ends claude and everything it started. y/n`)
        })
      case 'l':
      case 'enter':
        return this.withSelected((t) => void this.openLogs(t))
    }
  }

  private setStatus(text: string): void {
    this.status = text
    this.draw()
  }

  private move(delta: number): void {
    if (this.rows.length === 0) return
    const index = Math.max(
      0,
      this.rows.findIndex((r) => r.id === this.selectedId),
    )
    this.selectedId = this.rows[Math.min(this.rows.length - 1, Math.max(0, index + delta))].id
    this.draw()
  }

  private withSelected(fn: (task: TopRow) => void): void {
    const task = this.selected
    if (!task) return this.setStatus('No task selected.')
    fn(task)
  }

  private async act(action: Action, task: TopRow): Promise<void> {
    if (this.busy) return this.setStatus('Busy: wait for the current action to finish.')
    this.busy = true
    this.setStatus(`${DOING[action]} task ${task.shortId}…`)
    try {
      const state = await this.options.actions[action](task.id)
      this.status = `Task ${task.shortId} is ${state}.`
    } catch (error) {
      this.status = `Error: ${toMakimaError(error).message}`
    } finally {
      this.busy = false
    }
    this.refresh()
  }

  /**
   * `makima task logs -f <id>` in this terminal: leave the full screen, run it with the terminal
   * as its stdio, come back when it ends (Ctrl-C ends it; the SIGINT is ignored here meanwhile).
   */
  private async openLogs(task: TopRow): Promise<void> {
    if (this.inLogs) return
    this.inLogs = true
    this.stopTimer()
    this.term.leave()
    let interrupted = false
    const onSigint = () => (interrupted = true)
    process.on('SIGINT', onSigint)
    try {
      const [command, ...args] = this.options.actions.logsCommand
      const child = spawn(command, [...args, task.id], {stdio: 'inherit'})
      this.logsChild = child
      await new Promise<void>((resolve) => {
        child.once('error', (error) => {
          this.status = `Error: could not show the logs: ${error.message}`
          resolve()
        })
        child.once('exit', (code, signal) => {
          if (signal === 'SIGINT') interrupted = true
          else if (code !== 0 && code !== 130) this.status = `makima task logs exited with code ${code}.`
          resolve()
        })
      })
      this.logsChild = undefined
      if (!interrupted && !this.finished) {
        this.term.write(`\n[end of the log of task ${task.shortId}: press any key to return to makima top]`)
        await this.term.anyKey()
      }
    } finally {
      process.off('SIGINT', onSigint)
      this.inLogs = false
      this.show()
    }
  }
}
