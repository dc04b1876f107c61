import {TaskCommand} from './task-command.js'

/**
 * Base of `task pause`, `task resume` and `task interrupt`: one TaskManager control on the task
 * argument, then the task's new state (with --json: the task object). Each command keeps its own
 * class (oclif: one per command file) with its summary, description and examples.
 */
export abstract class TaskControlCommand extends TaskCommand {
  protected async control(action: 'pause' | 'resume' | 'interrupt', idOrPrefix: string): Promise<unknown> {
    const manager = await this.taskManager()
    const task = await manager[action](idOrPrefix)
    if (this.jsonEnabled()) return (await import('../lib/store/task-json.js')).taskJson(manager.store, task)
    this.say(`Task ${task.shortId} is ${task.state}.`)
    return undefined
  }
}
