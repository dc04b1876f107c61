import {Command} from '@oclif/core'

import {loadConfig} from './lib/config/load.js'
import type {Config} from './lib/config/types.js'
import {toMakimaError} from './lib/errors.js'

/**
 * Base of every makima command: `--json` (oclif's json flag: the value `run()` returns is printed
 * as JSON), config loading with flag overrides, and error output as shared/cli.md says: one line
 * `Error: ...` on stderr, `{"error": {code, message}}` on stdout with --json, and the exit code
 * of the error's code.
 */
export abstract class MakimaCommand extends Command {
  static override enableJsonFlag = true

  private cachedConfig?: Config

  /** The effective configuration (flag overrides > env > config.json > defaults). */
  protected makimaConfig(overrides?: Record<string, unknown>): Config {
    if (!this.cachedConfig || overrides) this.cachedConfig = loadConfig({env: process.env, overrides})
    return this.cachedConfig
  }

  /** Print a line for people on stdout (suppressed with --json). */
  protected say(line = ''): void {
    if (!this.jsonEnabled()) process.stdout.write(`${line}\n`)
  }

  /** Progress and notes go to stderr so stdout stays clean for data. */
  protected note(line: string): void {
    process.stderr.write(`${line}\n`)
  }

  protected override async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    // oclif's own exit (this.exit) and its parse errors keep oclif's handling.
    if (error.oclif?.exit !== undefined && error.constructor.name === 'ExitError') throw error
    if (error.constructor.name.endsWith('Error') && 'parse' in error) {
      // flag/arg parse failures from oclif: bad usage, exit 2
      process.stderr.write(`Error: ${error.message.split('\n')[0]}\n`)
      if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify({error: {code: 'INVALID_INPUT', message: error.message}})}\n`)
      return this.exit(2)
    }
    const err = toMakimaError(error)
    if (err.code === 'INTERNAL' && process.env.MAKIMA_DEBUG) process.stderr.write(`${(error as Error).stack}\n`)
    process.stderr.write(`Error: ${err.message}\n`)
    if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify({error: {code: err.code, message: err.message}})}\n`)
    return this.exit(err.exitCode)
  }
}
