import type {Config} from '../config/types.js'
import type {Store} from '../store/store.js'
import type {TaskRecord} from '../store/task-record.js'
import type {TaskManager} from '../tasks/manager.js'
import type {AuthFlows} from './auth-flow.js'
import type {Logger} from './logger.js'
import type {OutgoingMessage} from './messages.js'
import type {CommandOf, CommandType} from './protocol.js'
import type {ServerPaths} from './server-paths.js'

/** What a command handler gets from the daemon (dispatcher.ts and git-handlers.ts share it). */
export interface DispatchContext {
  /** the daemon's login flows (an AUTH_CODE: message goes to them) */
  authFlows: AuthFlows
  manager: TaskManager
  store: Store
  config: Config
  log: Logger
  send: (message: OutgoingMessage) => void
  runInBackground: (taskId: string) => void
  /** where the paths the server sends may point (server-paths.ts) */
  paths: ServerPaths
  /** a task of this daemon (origin daemon), or NOT_FOUND */
  requireTask: (taskId: string) => TaskRecord
  restart: () => void
}

export type Handler<T extends CommandType> = (command: CommandOf<T>, ctx: DispatchContext) => Promise<OutgoingMessage | void>
export type HandlerTable = {[T in CommandType]?: Handler<T>}
