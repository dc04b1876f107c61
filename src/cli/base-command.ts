import {Command, Errors} from '@oclif/core'

import {openHome} from '../lib/config/home-permissions.js'
import {loadConfig} from '../lib/config/load.js'
import type {Config} from '../lib/config/types.js'
import {MakimaError, toMakimaError} from '../lib/errors.js'

/**
 * Base of every makima command: `--json` (oclif's json flag: the value `run()` returns is printed
 * as JSON), config loading with flag overrides, and error output as docs/cli.md says: one line
 * `Error: ...` on stderr, `{"error": {code, message}}` on stdout with --json, and the exit code
 * of the error's code.
 */
export abstract class MakimaCommand extends Command {
  static override enableJsonFlag = true

  private cachedConfig?: Config
  private homeChecked = false

  /** The effective configuration (flag overrides > env > config.json > defaults). */
  protected makimaConfig(overrides?: Record<string, unknown>): Config {
    if (!this.cachedConfig || overrides) this.cachedConfig = loadConfig({env: process.env, overrides})
    if (!this.homeChecked) {
      this.homeChecked = true
      this.warnAboutOpenHome(this.cachedConfig.home)
    }
    return this.cachedConfig
  }

  /** Once per command: a MAKIMA_HOME other users can read gets one short line on stderr. */
  protected warnAboutOpenHome(home: string): void {
    const open = openHome(home)
    if (open) this.note(`Warning: ${open.detail}; fix: ${open.fix}`)
  }

  /**
   * --json output. oclif's logJson runs the text through its JSON colorizer, a regex tokenizer
   * that costs ~100 ms for 1,000 tasks even when there are no colors to add; without a JSON
   * color theme (oclif's theme.json) the text is the same as JSON.stringify(json, null, 2).
   */
  override logJson(json: unknown): void {
    if (this.config.theme?.json) return super.logJson(json)
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`)
  }

  /** Print a line for people on stdout (suppressed with --json). */
  protected say(line = ''): void {
    if (!this.jsonEnabled()) process.stdout.write(`${line}\n`)
  }

  /** Progress and notes go to stderr so stdout stays clean for data. */
  protected note(line: string): void {
    process.stderr.write(`${line}\n`)
  }

  protected override async catch(error: Error): Promise<unknown> {
    // this.exit(): let oclif exit with that code (it prints nothing for an ExitError).
    if (error instanceof Errors.ExitError || (error as {code?: unknown}).code === 'EEXIT') throw error
    let err: MakimaError
    if (error instanceof Errors.CLIError) {
      // oclif's usage errors (parse errors: missing or unexpected arg, unknown flag, invalid flag
      // value; they are CLIError subclasses with exit 2) and this.error(): one line, their exit code.
      const exit = (error as Errors.CLIError).oclif.exit ?? 2
      err = new MakimaError(exit === 2 ? 'INVALID_INPUT' : 'FAILED', oneLine(error.message), {cause: error})
      return this.report(err, exit)
    }
    err = toMakimaError(error)
    if (err.code === 'INTERNAL' && process.env.MAKIMA_DEBUG) process.stderr.write(`${(error as Error).stack}\n`)
    return this.report(err, err.exitCode)
  }

  private report(err: MakimaError, exitCode: number): never {
    process.stderr.write(`Error: ${err.message}\n`)
    if (this.jsonEnabled()) process.stdout.write(`${JSON.stringify({error: {code: err.code, message: err.message}})}\n`)
    return this.exit(exitCode)
  }
}

/** oclif's multi-line parse messages ("Missing 1 required arg:\nkey  the key\nSee more help with --help") as one line. */
function oneLine(message: string): string {
  const lines = message
    .split('\n')
    .map((line) =>
      line
        .trim()
        .replace(/^(\S+)\s{2,}(\S.*)$/, '$1 ($2)')
        .replace(/\s+/g, ' '),
    )
    .filter((line) => line !== '' && !/^See more help with --help$/.test(line))
  if (lines.length === 0) return 'bad usage (see --help)'
  return `${lines[0]}${lines.length > 1 ? ` ${lines.slice(1).join('; ')}` : ''} (see --help)`
}
