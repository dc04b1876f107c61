import {MakimaCommand} from './base-command.js'
import {cliEntry} from '../lib/package-root.js'
import type {Config} from '../lib/config/types.js'
import {databaseError, databaseProblem} from '../lib/store/database-errors.js'
import type {Store} from '../lib/store/store.js'
import {isEnded, type TaskRecord} from '../lib/store/task-record.js'
import type {TaskManager, TaskManagerOptions} from '../lib/tasks/manager.js'

/** Base of the task commands: opens the store and a TaskManager for this process, closes them after. */
export abstract class TaskCommand extends MakimaCommand {
  private openedStore?: Store

  protected async openStore(config: Config = this.makimaConfig()): Promise<Store> {
    if (!this.openedStore) {
      const {Store} = await import('../lib/store/store.js')
      this.openedStore = Store.open(config.localDb.path)
    }
    return this.openedStore
  }

  protected async taskManager(overrides?: Record<string, unknown>, options: Pick<TaskManagerOptions, 'hostQueued'> = {}): Promise<TaskManager> {
    const config = this.makimaConfig(overrides)
    // The modules load while the database opens (each import reads files between compiles).
    const modules = Promise.all([import('../lib/tasks/manager.js'), import('../lib/claude/stored-token.js')])
    modules.catch(() => {}) // awaited below; not unhandled when opening the store throws first
    const store = await this.openStore(config)
    const [{TaskManager}, {withStoredToken}] = await modules
    return new TaskManager({
      store,
      config,
      env: withStoredToken(process.env, config.home),
      runnerEntry: {execPath: process.execPath, script: cliEntry()},
      ...options,
    })
  }

  /**
   * Run a task that holds a slot: detached (worktree made here, a background runner started, the
   * id printed) or attached (transcript, Ctrl-C interrupts; exit code of the task, 130 on Ctrl-C).
   */
  /** `output`: a file that gets the final task object as JSON (the admitted one with detach). */
  protected async runAdmitted(manager: TaskManager, admitted: TaskRecord, detach: boolean, output?: string): Promise<unknown> {
    const writeOutput = async (t: TaskRecord) => {
      if (!output) return
      const {writeFileSync} = await import('node:fs')
      writeFileSync(output, `${JSON.stringify((await import('../lib/store/task-json.js')).taskJson(manager.store, t), null, 2)}\n`)
    }
    let task = admitted
    if (task.state === 'queued' && detach) {
      // Started later by whichever makima process frees a slot (tasks/manager.ts promoteQueued).
      const position = manager.store.tasks.queuePosition(manager.store.tasks.require(task.id))
      const hold = task.rateLimitedUntil !== null ? manager.rateLimitHold() : null
      const {holdText} = await import('../lib/tasks/rate-hold.js')
      if (hold) process.stderr.write(`task ${task.shortId} held: ${holdText(hold)}; it starts after that\n`)
      else if (position !== null) process.stderr.write(`task ${task.shortId} queued (${position - 1} ahead)\n`)
      // Held by a rate limit: no slot may free before the reset, so a runner waits for it (task run),
      // unless queueing already gave the queue one (tasks/queue.ts wakerForHold).
      if (task.rateLimitedUntil !== null && manager.store.tasks.require(task.id).runnerPid === null) manager.startDetachedRunner(task.id)
      await writeOutput(manager.store.tasks.get(task.id) ?? task)
      if (this.jsonEnabled()) return {taskId: task.id, queuePosition: position}
      this.say(task.id)
      return undefined
    }
    if (task.state === 'queued') {
      const {waitInQueue} = await import('./queue-wait.js')
      const waited = await waitInQueue(manager, task)
      if (isEnded(waited.task.state)) {
        await writeOutput(waited.task)
        if (this.jsonEnabled()) this.logJson((await import('../lib/store/task-json.js')).taskJson(manager.store, waited.task))
        else process.stderr.write(`task ${waited.task.shortId} ${waited.task.state}${waited.task.error ? `: ${waited.task.error}` : ''}\n`)
        this.exit(waited.interrupted ? 130 : taskExitCode(waited.task))
      }
      task = waited.task
    }
    if (detach) {
      await manager.prepareWorkspace(task.id)
      manager.startDetachedRunner(task.id)
      await writeOutput(manager.store.tasks.get(task.id) ?? task)
      if (this.jsonEnabled()) return {taskId: task.id}
      this.say(task.id)
      return undefined
    }
    const {attachTask} = await import('./attached-run.js')
    const {task: final, interrupted} = await attachTask(manager, task, {json: this.jsonEnabled()})
    await writeOutput(final)
    if (this.jsonEnabled()) this.logJson((await import('../lib/store/task-json.js')).taskJson(manager.store, final))
    const code = interrupted ? 130 : taskExitCode(final)
    if (code !== 0) this.exit(code)
    return undefined
  }

  /** Damage found after the database opened (a malformed page) names the file and the fix too. */
  protected override async catch(error: Error): Promise<unknown> {
    const file = this.openedStore?.db.name
    return super.catch(file && databaseProblem(error) === 'damaged' ? databaseError(file, error) : error)
  }

  protected override async finally(error: Error | undefined): Promise<unknown> {
    try {
      this.openedStore?.close()
    } catch {
      // closing is best effort
    }
    return super.finally(error)
  }
}

/** Exit code of a task that has ended (docs/cli.md): 0 completed (and its completion action ok), else 1. */
export function taskExitCode(task: TaskRecord): number {
  if (task.state !== 'completed') return 1
  return task.completionAction?.ok === false ? 1 : 0
}
