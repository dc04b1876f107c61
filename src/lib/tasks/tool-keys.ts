import {randomBytes} from 'node:crypto'

import type {TaskRecord} from '../store/task-record.js'

/** Orchestrator, supervisor and contract tasks get a tool key for the makima server's API. */
export function needsToolKey(task: Pick<TaskRecord, 'isOrchestrator' | 'isSupervisor' | 'contractId'>): boolean {
  return task.isOrchestrator || task.isSupervisor || Boolean(task.contractId)
}

/** 32 random bytes, hex (protocol.md "Paths and secrets"). */
export function generateToolKey(): string {
  return randomBytes(32).toString('hex')
}

/** Replace every secret (6 characters or longer) in `text` with [redacted]. */
export function redactSecrets(text: string, secrets: Iterable<string>): string {
  let out = text
  for (const secret of secrets) if (secret.length >= 6 && out.includes(secret)) out = out.split(secret).join('[redacted]')
  return out
}

/**
 * The tool keys of the tasks one process hosts. A key is made the first time a task's Claude
 * Code starts in this process and kept in memory only (never in the store, so `task show` and
 * `--json` cannot print it); a run that resumes the task here gets the same key, a runner in
 * another process makes a new one. `onNew` hears of each new key (the daemon registers it with
 * the server). `secrets()` lists every key plus the extra secrets given (e.g. the server API key);
 * `redact` takes a task's own key and the extra secrets out of a line of its output.
 */
export class ToolKeys {
  private readonly keys = new Map<string, string>()

  constructor(
    private readonly onNew?: (taskId: string, key: string) => void,
    private readonly extraSecrets: Iterable<string> = [],
  ) {}

  /** The task's key (made now if it has none yet), or null for a task that gets none. */
  keyFor(task: Pick<TaskRecord, 'id' | 'isOrchestrator' | 'isSupervisor' | 'contractId'>): string | null {
    if (!needsToolKey(task)) return null
    let key = this.keys.get(task.id)
    if (!key) {
      key = generateToolKey()
      this.keys.set(task.id, key)
      this.onNew?.(task.id, key)
    }
    return key
  }

  /** Every key made here plus the extra secrets. */
  secrets(): string[] {
    return [...this.keys.values(), ...this.extraSecrets]
  }

  /** `text` (a line of the task's output) without the task's own key and the extra secrets. */
  redact(taskId: string, text: string): string {
    const key = this.keys.get(taskId)
    return redactSecrets(text, key ? [key, ...this.extraSecrets] : this.extraSecrets)
  }
}
