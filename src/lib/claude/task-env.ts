/**
 * The environment of a task's `claude` (docs/design.md "Processes"): the parent's environment
 * minus makima's secrets, minus the task-scoped variables makima sets itself, minus the markers
 * Claude Code sets in its own tool shells (a claude started with them believes it is nested),
 * plus the task's own variables. Runners (`task run`) get the same cleaning without task vars.
 */
export const SECRET_VARIABLES = ['MAKIMA_DAEMON_SERVER_APIKEY'] as const
export const TASK_SCOPED_VARIABLES = ['MAKIMA_TASK_ID', 'MAKIMA_API_URL', 'MAKIMA_API_KEY', 'MAKIMA_CONTRACT_ID', 'MAKIMA_TASK_PORT', 'MAKIMA_WORKTREE', 'MAKIMA_SOURCE_REPO'] as const
export const CLAUDE_NESTING_MARKERS = ['CLAUDECODE', 'CLAUDE_CODE_ENTRYPOINT', 'CLAUDE_CODE_SESSION_ID', 'CLAUDE_CODE_CHILD_SESSION', 'CLAUDE_CODE_EXECPATH'] as const

const REMOVED = new Set<string>([...SECRET_VARIABLES, ...TASK_SCOPED_VARIABLES, ...CLAUDE_NESTING_MARKERS])

export function cleanEnvironment(parent: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(parent)) {
    if (value !== undefined && !REMOVED.has(name)) env[name] = value
  }
  return env
}

export interface TaskVariables {
  taskId: string
  /** Orchestrator/supervisor/contract tasks: the HTTP API and the task's tool key. */
  apiUrl?: string
  toolKey?: string
  contractId?: string | null
  /** the TCP port reserved for the task (its dev servers listen there) */
  taskPort?: number | null
}

export function buildTaskEnvironment(parent: Record<string, string | undefined>, vars: TaskVariables): Record<string, string> {
  const env = cleanEnvironment(parent)
  env.MAKIMA_TASK_ID = vars.taskId
  if (vars.apiUrl) env.MAKIMA_API_URL = vars.apiUrl
  if (vars.toolKey) env.MAKIMA_API_KEY = vars.toolKey
  if (vars.contractId) env.MAKIMA_CONTRACT_ID = vars.contractId
  if (vars.taskPort) env.MAKIMA_TASK_PORT = String(vars.taskPort)
  return env
}
