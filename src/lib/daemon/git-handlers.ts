import type {HandlerTable} from './dispatcher.js'

/**
 * Git-workflow commands (merges, checkpoints, diff, completion actions, repository files), each
 * answered with its protocol.md answer payload by the library function the CLI uses too.
 */
export const GIT_HANDLERS: HandlerTable = {}
