import {systemPromptFor} from '../../claude/prompts.js'
import {buildTaskEnvironment} from '../../claude/task-env.js'
import type {Config} from '../../config/types.js'
import type {TaskRecord} from '../../store/task-record.js'
import {needsOrchestrateScript, writeOrchestrateScript, type MakimaEntry} from './orchestrate-script.js'
import type {ToolKeys} from './tool-keys.js'

/** What the hosting process knows that a task's role needs. */
export interface RoleContext {
  /** the tool keys of this process (orchestrator, supervisor and contract tasks get one) */
  toolKeys?: ToolKeys
  /** how to run this makima, written into `.makima/orchestrate.sh` */
  makimaEntry?: MakimaEntry
}

export interface RoleSetup {
  appendSystemPrompt: string
  env: Record<string, string>
  /** a problem to tell the user about (the task still runs) */
  warning?: string
}

/**
 * Everything a run of Claude Code gets from the task's role: the system prompt (prompts.ts), the
 * environment (design.md "Processes": cleaned parent env, MAKIMA_TASK_ID always; MAKIMA_API_URL,
 * MAKIMA_API_KEY = the tool key and MAKIMA_CONTRACT_ID for orchestrator, supervisor and contract
 * tasks), and for orchestrators and supervisors a fresh `.makima/orchestrate.sh` in the worktree.
 */
export function setUpRole(task: TaskRecord, config: Config, parentEnv: Record<string, string | undefined>, ctx: RoleContext): RoleSetup {
  const toolKey = ctx.toolKeys?.keyFor(task) ?? null
  const env = buildTaskEnvironment(parentEnv, {
    taskId: task.id,
    apiUrl: toolKey ? config.api.url : undefined,
    toolKey: toolKey ?? undefined,
    contractId: task.contractId,
    taskPort: task.taskPort,
  })
  let warning: string | undefined
  if (needsOrchestrateScript(task)) {
    if (!ctx.makimaEntry) warning = 'no makima entry point is known to this process: .makima/orchestrate.sh was not written'
    else {
      try {
        writeOrchestrateScript(task, ctx.makimaEntry, config.home)
      } catch (error) {
        warning = `could not write .makima/orchestrate.sh: ${(error as Error).message}`
      }
    }
  }
  return {appendSystemPrompt: systemPromptFor(task), env, warning}
}
