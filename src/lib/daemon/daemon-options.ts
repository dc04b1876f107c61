import type {Config} from '../config/types.js'
import type {SecretRedactor} from '../secrets/redactor.js'
import type {Logger} from './logger.js'

/** What `makima daemon` (commands/daemon/index.ts) gives the Daemon (daemon.ts). */
export interface DaemonOptions {
  config: Config
  apiKey: string
  env: Record<string, string | undefined>
  version: string
  hostname: string
  log: Logger
  /** the secrets the logger and every task's output are cleaned of; tool keys are added as tasks get them */
  redactor: SecretRedactor
  runnerEntry: {execPath: string; script: string}
  /** the CLAUDE_CODE_OAUTH_TOKEN the daemon was started with: a token its login flow saves replaces it */
  originalOauthToken?: string
}
