import {TaskCommand} from '../../cli/task-command.js'
import {taskIdArg} from '../../cli/task-flags.js'

export default class TaskRun extends TaskCommand {
  static override hidden = true
  static override summary = 'Host a task in this process (what --detach starts in the background)'
  static override args = {task: taskIdArg}

  async run(): Promise<unknown> {
    const {args} = await this.parse(TaskRun)
    const manager = await this.taskManager({}, {hostQueued: true})
    const task = manager.store.tasks.resolve(args.task)
    const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`)
    manager.onEvent((event) => {
      if (event.type === 'progress') log(event.message)
      else if (event.type === 'status') log(`state ${event.oldState} -> ${event.newState}`)
      else if (event.type === 'complete') log(`ended: ${event.task.state}${event.error ? ` (${event.error})` : ''}`)
    })
    const stop = (signal: NodeJS.Signals) => {
      log(`${signal}: interrupting the task`)
      void manager.interruptLocal()
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
    process.on('SIGHUP', () => undefined) // the terminal that started us may go away
    log(`runner pid ${process.pid} for task ${task.id}`)
    let mine = true
    if (task.state === 'queued') {
      // a task held by a rate limit (task spawn --detach): wait in the queue as an attached spawn does
      const {waitInQueue} = await import('../../cli/queue-wait.js')
      manager.queuedHere.add(task.id)
      const waited = await waitInQueue(manager, task)
      // another process may have taken it over meanwhile (its runner fields say whose it is)
      mine = waited.task.state === 'initializing' && waited.task.runnerPid === process.pid
    }
    if (mine) await manager.run(task.id)
    // queued tasks this runner promoted (while waiting, or as its task's slot freed) run here too (tasks/queue.ts)
    const {whenHostedDone} = await import('../../lib/tasks/queue.js')
    await whenHostedDone(manager)
    return undefined
  }
}
