import {toMakimaError} from '../errors.js'
import {failureAnswer} from './answers.js'
import type {DispatchContext} from './dispatch-context.js'
import {dispatch} from './dispatcher.js'
import type {OutboxWriter} from './event-sink.js'
import type {Logger} from './logger.js'
import {capMessage, parseCommand, type CommandType} from './protocol.js'

/** What the frame handler needs from the daemon. */
export interface FrameHost {
  writer: OutboxWriter
  log: Logger
  /** why a command of this type is refused now (shutting down, draining), or undefined */
  refusal(type: CommandType): string | undefined
  dispatchContext(): DispatchContext
  /** each command's dispatch as it starts (the daemon tracks the ones a drain must wait for) */
  dispatched?(type: CommandType, done: Promise<unknown>): void
}

/**
 * One server frame (protocol.md "Bad input"): parsed and validated, dispatched, and answered;
 * whatever goes wrong becomes a commandError (plus the command's own answer with success: false).
 * Nothing thrown here escapes: an unhandled rejection would end the daemon.
 */
export async function handleServerFrame(text: string, host: FrameHost): Promise<void> {
  try {
    const parsed = parseCommand(text)
    if (!parsed.ok) return sendCommandError(host, parsed.commandType, parsed.fields, parsed.code, parsed.message)
    const command = parsed.command
    if (command.type === 'ack') return
    if (command.type === 'error') return host.log('warn', `server error ${command.code}: ${command.message}`)
    const refusal = host.refusal(command.type)
    if (refusal) return sendCommandError(host, command.type, command as Record<string, unknown>, 'INVALID_STATE', refusal)
    try {
      const done = dispatch(command, host.dispatchContext())
      host.dispatched?.(command.type, done)
      const answer = await done
      if (answer) host.writer.sendNow(answer)
    } catch (error) {
      const err = toMakimaError(error)
      if (err.code === 'INTERNAL') host.log('error', `${command.type} failed: ${err.message}`, {stack: (error as Error).stack})
      const retryAfter = typeof err.details?.retryAfter === 'number' ? err.details.retryAfter : undefined // a rate limit (tasks/rate-hold.ts)
      sendCommandError(host, command.type, command as Record<string, unknown>, err.protocolCode, err.message, retryAfter)
    }
  } catch (error) {
    host.log('error', `handling a server frame failed: ${(error as Error).message}`, {stack: (error as Error).stack})
  }
}

/** A commandError, and the command's own answer with success: false when it has one. */
export function sendCommandError(host: FrameHost, commandType: string, fields: Record<string, unknown>, code: string, fullMessage: string, retryAfter?: number): void {
  const message = capMessage(fullMessage)
  const ids = {
    taskId: typeof fields.taskId === 'string' ? fields.taskId : undefined,
    requestId: typeof fields.requestId === 'string' ? fields.requestId : undefined,
  }
  host.log('warn', `command ${commandType} refused: ${code}: ${message}`)
  host.writer.sendNow({type: 'commandError', taskId: ids.taskId, body: {commandType, ...ids, code, message, ...(retryAfter === undefined ? {} : {retryAfter})}})
  const answer = failureAnswer(commandType, fields, message)
  if (answer) host.writer.sendNow({...answer, taskId: ids.taskId})
}
