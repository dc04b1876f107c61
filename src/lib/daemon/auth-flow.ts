import {SetupTokenSession, type LoginResult} from '../claude/setup-token.js'
import {MakimaError} from '../errors.js'
import type {OutgoingMessage} from './event-sink.js'
import type {Logger} from './logger.js'

export interface AuthFlowOptions {
  /** the claude executable (resolved when a flow starts; throws when missing) */
  claudeCommand: () => string
  /** environment of setup-token (the daemon's, cleaned) */
  env: () => Record<string, string>
  cwd: string
  hostname: string
  log: Logger
  /** send a message to the server now (through the outbox) */
  send: (message: OutgoingMessage) => void
  /** a progress line on a task (taskOutput), when the task is known here */
  note: (taskId: string, message: string) => void
  /** setup-token printed a long-lived token: the daemon gives it to the tasks it starts from now on */
  onToken: (token: string) => void
  /** how long a flow waits for its code (default 10 minutes) */
  codeTimeoutMs?: number
}

interface Flow {
  session: SetupTokenSession
  taskId: string | null
  timer: NodeJS.Timeout
}

export const AUTH_CODE_PREFIX = 'AUTH_CODE:'

/**
 * The daemon's Claude Code login (docs/protocol.md "OAuth codes"): when a task fails because
 * Claude Code is not logged in, `claude setup-token` runs in a pseudo-terminal, its login URL goes
 * to the server as `authenticationRequired`, and the code that comes back (`sendMessage` with
 * `AUTH_CODE:<code>`) is typed into it. One flow at a time: a newer one ends the older one's
 * setup-token. A wrong code ends that flow and starts a fresh one (a new URL is sent). The code and
 * the token never reach the log or the server.
 */
export class AuthFlows {
  private current?: Flow
  /** bumped by every start and by stop: a flow that finishes starting late knows it was replaced */
  private generation = 0

  constructor(private readonly options: AuthFlowOptions) {}

  /** The flow waiting for a code, if any (for status and tests). */
  get waiting(): {taskId: string | null; loginUrl: string; pid: number} | undefined {
    const flow = this.current
    return flow && !flow.session.ended ? {taskId: flow.taskId, loginUrl: flow.session.loginUrl, pid: flow.session.pid} : undefined
  }

  /** Start a login flow for a task that failed for authentication (replacing any older flow). */
  async start(taskId: string | null): Promise<void> {
    const generation = ++this.generation
    this.end('replaced by a newer login flow')
    const {log} = this.options
    log('warn', `Claude Code is not logged in${taskId ? ` (task ${taskId})` : ''}: starting \`claude setup-token\` for a login URL`)
    let session: SetupTokenSession
    try {
      session = await SetupTokenSession.start({
        command: this.options.claudeCommand(),
        env: this.options.env(),
        cwd: this.options.cwd,
        onLine: (line) => log('info', `setup-token: ${line}`),
      })
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      log('error', `the Claude Code login flow could not start: ${message}`)
      if (taskId) this.options.note(taskId, `Claude Code is not logged in on ${this.options.hostname} and no login URL could be obtained (${message}); run \`makima auth login\` there`)
      return
    }
    if (generation !== this.generation) {
      session.kill() // a newer flow (or shutdown) came while this one started
      return
    }
    const timeoutMs = this.options.codeTimeoutMs ?? 10 * 60_000
    const timer = setTimeout(() => {
      if (this.current?.session !== session) return
      log('warn', `the Claude Code login flow got no code within ${Math.round(timeoutMs / 1000)} s; ended`)
      this.end('timed out')
    }, timeoutMs)
    timer.unref()
    this.current = {session, taskId, timer}
    log('info', 'Claude Code login URL obtained; sent to the server (authenticationRequired)', {taskId, pid: session.pid})
    this.options.send({
      type: 'authenticationRequired',
      taskId,
      body: {...(taskId ? {taskId} : {}), loginUrl: session.loginUrl, hostname: this.options.hostname},
    })
  }

  /**
   * `AUTH_CODE:<code>`: type the code into the waiting flow. Resolves on success; throws
   * INVALID_STATE without a flow, FAILED (after starting a new flow) when the code was refused.
   */
  async submitCode(code: string): Promise<LoginResult> {
    const flow = this.current
    if (!flow || flow.session.ended) {
      throw new MakimaError('INVALID_STATE', 'no Claude Code login is waiting for a code on this daemon (one starts when a task fails because Claude Code is not logged in)')
    }
    if (code.trim() === '') throw new MakimaError('INVALID_INPUT', 'the AUTH_CODE message has no code after "AUTH_CODE:"')
    this.current = undefined
    clearTimeout(flow.timer)
    const {log, hostname} = this.options
    const result = await flow.session.submitCode(code)
    if (result.success) {
      if (result.token) this.options.onToken(result.token)
      log('info', `Claude Code login succeeded: ${result.message}${result.token ? ' (the new token is used by tasks started from now on)' : ''}; tasks that failed for authentication can be respawned`)
      if (flow.taskId) this.options.note(flow.taskId, `Claude Code login succeeded on ${hostname}; this task can be respawned`)
      return result
    }
    log('warn', `Claude Code login failed: ${result.message}; starting a new login flow`)
    if (flow.taskId) this.options.note(flow.taskId, `Claude Code login failed on ${hostname}: ${result.message}`)
    void this.start(flow.taskId)
    throw new MakimaError('FAILED', `Claude Code login failed: ${result.message}; a new login URL is on its way (authenticationRequired)`)
  }

  /** End the waiting flow, if any, and any flow still starting (daemon shutdown). */
  stop(): void {
    this.generation++
    this.end('the daemon is stopping')
  }

  private end(why: string): void {
    const flow = this.current
    if (!flow) return
    this.current = undefined
    clearTimeout(flow.timer)
    if (!flow.session.ended) this.options.log('info', `ending the Claude Code login flow (pid ${flow.session.pid}): ${why}`)
    flow.session.kill()
  }
}
