import {randomBytes} from 'node:crypto'

import {SecretRedactor} from '../../secrets/redactor.js'
import type {TaskRecord} from '../../store/task-record.js'

/** Orchestrator, supervisor and contract tasks get a tool key for the makima server's API. */
export function needsToolKey(task: Pick<TaskRecord, 'isOrchestrator' | 'isSupervisor' | 'contractId'>): boolean {
  return task.isOrchestrator || task.isSupervisor || Boolean(task.contractId)
}

/** 32 random bytes, hex (protocol.md "Paths and secrets"). */
export function generateToolKey(): string {
  return randomBytes(32).toString('hex')
}

/**
 * The tool keys of the tasks one process hosts. A key is made the first time a task's Claude
 * Code starts in this process and kept in memory only (never in the store, so `task show` and
 * `--json` cannot print it); a run that resumes the task here gets the same key, a runner in
 * another process makes a new one. `onNew` hears of each new key (the daemon registers it with
 * the server). Every key is added to the process's SecretRedactor as it is made, so no task's
 * output, the transcript, taskOutput or a log can carry any of them.
 */
export class ToolKeys {
  private readonly keys = new Map<string, string>()

  constructor(
    private readonly onNew?: (taskId: string, key: string) => void,
    readonly redactor: SecretRedactor = new SecretRedactor(),
  ) {}

  /** The task's key (made now if it has none yet), or null for a task that gets none. */
  keyFor(task: Pick<TaskRecord, 'id' | 'isOrchestrator' | 'isSupervisor' | 'contractId'>): string | null {
    if (!needsToolKey(task)) return null
    let key = this.keys.get(task.id)
    if (!key) {
      key = generateToolKey()
      this.keys.set(task.id, key)
      this.redactor.add(key)
      this.onNew?.(task.id, key)
    }
    return key
  }

  /** `text` (a line of a task's output) without any secret this process knows. */
  redact(text: string): string {
    return this.redactor.redact(text)
  }
}
