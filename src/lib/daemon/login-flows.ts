import {saveStoredToken} from '../claude/stored-token.js'
import type {Config} from '../config/types.js'
import type {SecretRedactor} from '../secrets/redactor.js'
import type {TaskManager} from '../tasks/manager.js'
import {AuthFlows} from './auth-flow.js'
import type {OutboxWriter} from './event-sink.js'
import type {Logger} from './logger.js'

export interface LoginFlowDeps {
  manager: TaskManager
  writer: OutboxWriter
  config: Config
  log: Logger
  hostname: string
  isDaemonTask: (taskId: string) => boolean
  redactor: SecretRedactor
  /** the environment tasks get: a token the login flow obtains replaces CLAUDE_CODE_OAUTH_TOKEN there */
  env: Record<string, string | undefined>
  /** the CLAUDE_CODE_OAUTH_TOKEN the daemon was started with: a token the flow saves replaces it */
  originalOauthToken?: string
}

/**
 * The daemon's login flows (auth-flow.ts, protocol.md "OAuth codes"): started when a server task
 * fails because Claude Code is not logged in (its failureKind is 'auth'); the token they obtain is
 * redacted from the log, saved in MAKIMA_HOME and given to the tasks started from then on.
 */
export function loginFlows(deps: LoginFlowDeps): AuthFlows {
  const {manager, config} = deps
  const flows = new AuthFlows({
    claudeCommand: () => manager.claudePath(),
    env: () => manager.taskEnvironmentBase(),
    cwd: config.home,
    hostname: deps.hostname,
    log: deps.log,
    send: (message) => deps.writer.sendNow(message),
    note: (taskId, message) => {
      if (deps.isDaemonTask(taskId)) manager.note(taskId, message)
    },
    onToken: (token) => {
      deps.redactor.add(token)
      saveStoredToken(config.home, token, deps.originalOauthToken)
      deps.env.CLAUDE_CODE_OAUTH_TOKEN = token
    },
  })
  manager.onEvent((event) => {
    if (event.type === 'complete' && !event.success && event.task.origin === 'daemon' && event.failureKind === 'auth') void flows.start(event.taskId)
  })
  return flows
}
