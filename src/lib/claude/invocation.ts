import {accessSync, constants} from 'node:fs'
import path from 'node:path'

import {MakimaError} from '../errors.js'

export interface ClaudeSettings {
  claudeCommand: string
  claudeArgs: string[]
  claudePreArgs: string[]
  enablePermissions: boolean
}

export interface InvocationOptions {
  /** Resume this Claude session (`--resume <id>`). */
  resumeSessionId?: string | null
  /** Continue the most recent session in the directory (`--continue`). */
  continueSession?: boolean
  appendSystemPrompt?: string
  /** Claude Code's own cost budget for this run (`--max-budget-usd`): what is left of the task's --max-cost */
  maxBudgetUsd?: number | null
}

/**
 * argv of one run of Claude Code in print mode, reading user messages as stream-json on stdin
 * and writing stream-json on stdout. The plan (or a follow-up) is the first stdin message.
 */
export function claudeArgv(settings: ClaudeSettings, options: InvocationOptions = {}): string[] {
  const args = [...settings.claudePreArgs, '-p', '--output-format', 'stream-json', '--input-format', 'stream-json', '--verbose']
  if (!settings.enablePermissions) args.push('--dangerously-skip-permissions')
  if (options.resumeSessionId) args.push('--resume', options.resumeSessionId)
  else if (options.continueSession) args.push('--continue')
  if (options.appendSystemPrompt) args.push('--append-system-prompt', options.appendSystemPrompt)
  if (options.maxBudgetUsd != null) args.push('--max-budget-usd', budgetArg(options.maxBudgetUsd))
  args.push(...settings.claudeArgs)
  return args
}

/**
 * Find the claude executable the way the shell would (a name is looked up on PATH, a path is
 * checked directly). Throws INVALID_INPUT saying how to install it or point makima at it.
 */
export function resolveClaudeCommand(command: string, envPath: string | undefined, cwd = process.cwd()): string {
  const candidates = command.includes('/')
    ? [path.resolve(cwd, command)]
    : (envPath ?? '')
        .split(path.delimiter)
        .filter(Boolean)
        .map((dir) => path.join(dir, command))
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // keep looking
    }
  }
  throw new MakimaError(
    'INVALID_INPUT',
    `Claude Code executable "${command}" was not found${command.includes('/') ? '' : ' on PATH'}: install it with \`npm install -g @anthropic-ai/claude-code\`, or set process.claudeCommand (makima config set process.claudeCommand /path/to/claude)`,
  )
}

/** A dollar amount as --max-budget-usd takes it: plain decimals (never "1e-7"), at least a millionth of a cent. */
export function budgetArg(usd: number): string {
  return Math.max(usd, 1e-8).toFixed(8).replace(/0+$/, '').replace(/\.$/, '')
}
