/**
 * One error type for the whole library. Every failure a person can act on is a MakimaError
 * with a code; the code decides the CLI exit code (docs/cli.md) and the protocol error code
 * (docs/protocol.md). Anything else that escapes is a bug and maps to INTERNAL.
 */

import {redactCredentials} from './redact.js'

export type ErrorCode =
  | 'INVALID_INPUT' // bad usage or bad value (exit 2, protocol INVALID_FIELD)
  | 'NOT_FOUND' // a task, checkpoint or branch makima should know (exit 3, TASK_NOT_FOUND)
  | 'INVALID_STATE' // conflicts with the current state (exit 4)
  | 'TASK_EXISTS' // spawn of a task id that is active (exit 4)
  | 'CONCURRENCY_LIMIT' // global cap (exit 4)
  | 'CONTRACT_CONCURRENCY_LIMIT' // per-contract cap (exit 4)
  | 'FAILED' // the operation ran and failed (exit 1)
  | 'TIMEOUT' // task wait timed out (exit 124)
  | 'INTERRUPTED' // Ctrl-C (exit 130)
  | 'INTERNAL' // a bug or an unexpected environment failure (exit 1)

const EXIT_CODES: Record<ErrorCode, number> = {
  INVALID_INPUT: 2,
  NOT_FOUND: 3,
  INVALID_STATE: 4,
  TASK_EXISTS: 4,
  CONCURRENCY_LIMIT: 4,
  CONTRACT_CONCURRENCY_LIMIT: 4,
  FAILED: 1,
  TIMEOUT: 124,
  INTERRUPTED: 130,
  INTERNAL: 1,
}

const PROTOCOL_CODES: Record<ErrorCode, string> = {
  INVALID_INPUT: 'INVALID_FIELD',
  NOT_FOUND: 'TASK_NOT_FOUND',
  INVALID_STATE: 'INVALID_STATE',
  TASK_EXISTS: 'TASK_EXISTS',
  CONCURRENCY_LIMIT: 'CONCURRENCY_LIMIT',
  CONTRACT_CONCURRENCY_LIMIT: 'CONTRACT_CONCURRENCY_LIMIT',
  FAILED: 'INTERNAL',
  TIMEOUT: 'INTERNAL',
  INTERRUPTED: 'INTERNAL',
  INTERNAL: 'INTERNAL',
}

export class MakimaError extends Error {
  readonly code: ErrorCode
  readonly details?: Record<string, unknown>

  constructor(code: ErrorCode, message: string, options?: {cause?: unknown; details?: Record<string, unknown>}) {
    super(redactCredentials(message), options?.cause === undefined ? undefined : {cause: options.cause})
    this.name = 'MakimaError'
    this.code = code
    this.details = options?.details
  }

  get exitCode(): number {
    return EXIT_CODES[this.code]
  }

  get protocolCode(): string {
    return PROTOCOL_CODES[this.code]
  }
}

export function isMakimaError(error: unknown): error is MakimaError {
  return error instanceof MakimaError
}

/** Normalise anything thrown into a MakimaError (unknown errors become INTERNAL). */
export function toMakimaError(error: unknown): MakimaError {
  if (error instanceof MakimaError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new MakimaError('INTERNAL', message, {cause: error})
}

export const invalidInput = (message: string) => new MakimaError('INVALID_INPUT', message)
export const notFound = (message: string) => new MakimaError('NOT_FOUND', message)
export const invalidState = (message: string) => new MakimaError('INVALID_STATE', message)
