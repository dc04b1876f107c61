import {MakimaError} from '../errors.js'
import {TOKEN_ONE, TOKEN_RE, cleanTerminalText, findLoginUrl, meaningfulLines, redactTokens} from './terminal-text.js'

// `claude setup-token` driven through a pseudo-terminal (docs/protocol.md "OAuth codes",
// cli.md `makima auth login`). Claude Code's login UI is an Ink app that needs a real terminal:
// it prints a sign-in URL, then waits at "Paste code here if prompted >" for the code the browser
// shows. Checked against the real 2.1.197 offline: the URL is on one line when the terminal is
// wide enough (cols 500), the code is accepted as typed text followed by Enter, a bad exchange
// prints "OAuth error: ..." and waits for "Press Enter to retry", a good one prints
// "Long-lived authentication token created successfully!" and the token (setup-token does not
// store it: it is for CLAUDE_CODE_OAUTH_TOKEN).

export interface LoginResult {
  success: boolean
  /** the line that decided (success or failure text), or what went wrong */
  message: string
  /** what setup-token printed after the code (ANSI stripped), for people; contains the token on success */
  output: string
  /** the long-lived token setup-token printed on success (sk-ant-...) */
  token?: string
}

export interface SetupTokenOptions {
  /** the claude executable (resolved) */
  command: string
  env: Record<string, string>
  cwd: string
  /** how long to wait for the login URL (default 30 s) */
  urlTimeoutMs?: number
  /** cleaned output lines, for a log (tokens redacted) */
  onLine?: (line: string) => void
}

const COLS = 500
const DRAIN_MS = 300
/** `$0 setup-token`, then keep the terminal open for a second; exits with setup-token's code. */
const HOLD_OPEN_SCRIPT = '"$0" setup-token; code=$?; sleep 1; exit $code'
const SUCCESS_RE = /success|logged in|authenticated/i
const FAILURE_RE = /error|invalid|failed|failure|expired|denied|not valid|incorrect/i

interface PtyLike {
  pid: number
  write(data: string): void
  kill(signal?: string): void
  onData(listener: (data: string) => void): {dispose(): void}
  onExit(listener: (e: {exitCode: number; signal?: number}) => void): {dispose(): void}
}

/** The pseudo-terminal package: node-pty's code with prebuilt binaries (README "Dependencies"). */
export const PTY_PACKAGE = '@lydell/node-pty'

/**
 * The pseudo-terminal, loaded on first use (only `auth login` and the daemon's login flow need it).
 * Its native part comes from an optional dependency per platform, `@lydell/node-pty-<platform>-<arch>`
 * (linux, darwin and win32 on x64 and arm64): an install with --omit=optional, or on another
 * platform, has none, and the error says so and what to do.
 */
async function loadPty(): Promise<{spawn: (file: string, args: string[], options: Record<string, unknown>) => PtyLike}> {
  try {
    const mod = (await import('@lydell/node-pty')) as unknown as {spawn?: unknown; default?: {spawn?: unknown}}
    const spawn = (mod.spawn ?? mod.default?.spawn) as ((file: string, args: string[], options: Record<string, unknown>) => PtyLike) | undefined
    if (!spawn) throw new Error(`${PTY_PACKAGE} has no spawn()`)
    return {spawn}
  } catch (error) {
    const {packageRoot} = await import('../package-root.js')
    const platformPackage = `${PTY_PACKAGE}-${process.platform}-${process.arch}`
    throw new MakimaError(
      'INTERNAL',
      `could not load ${PTY_PACKAGE} (the pseudo-terminal \`claude setup-token\` runs in): ${firstLine((error as Error).message)}. ` +
        `Its prebuilt binary comes from the optional dependency ${platformPackage} (published for linux, darwin and win32 on x64 and arm64) in ${packageRoot()}/node_modules; ` +
        `if it is missing there, reinstall makima without --omit=optional (\`npm install -g makima\`, or \`npm ci\` in a checkout). Without it, run \`claude setup-token\` yourself and set CLAUDE_CODE_OAUTH_TOKEN where makima runs.`,
      {cause: error},
    )
  }
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim()
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * One `claude setup-token` in a pseudo-terminal. `start` resolves once the login URL is on screen;
 * `submitCode` types the user's code and resolves with the outcome. One code per session: after
 * it the process is ended (a failed code needs a new session and a new URL).
 */
export class SetupTokenSession {
  private raw = ''
  private lineBuffer = ''
  private exitInfo?: {exitCode: number; signal?: number}
  private readonly waiters = new Set<() => void>()
  private submitted = false
  /** the code once typed: kept out of the lines given to onLine */
  private code?: string
  private killed = false
  loginUrl = ''

  private constructor(
    private readonly pty: PtyLike,
    private readonly onLine?: (line: string) => void,
  ) {
    pty.onData((data) => {
      this.raw += data
      this.emitLines(data)
      this.notify()
    })
    pty.onExit((e) => {
      this.exitInfo = e
      this.emitLines('\n')
      this.notify()
    })
  }

  static async start(options: SetupTokenOptions): Promise<SetupTokenSession> {
    const {spawn} = await loadPty()
    let pty: PtyLike
    try {
      // Through a shell that holds the terminal open a moment after setup-token exits: on Linux
      // node-pty can drop the last chunk a process prints just before it exits (node-pty #72, #85),
      // and that chunk is the one carrying the outcome and the token.
      pty = spawn('/bin/sh', ['-c', HOLD_OPEN_SCRIPT, options.command], {
        name: 'xterm-256color',
        cols: COLS,
        rows: 50,
        cwd: options.cwd,
        // BROWSER=false: no browser is opened, so the URL and the code prompt are shown.
        env: {...options.env, BROWSER: 'false', TERM: 'xterm-256color', COLUMNS: String(COLS)},
      })
    } catch (error) {
      throw new MakimaError('FAILED', `could not start \`${options.command} setup-token\`: ${(error as Error).message}`)
    }
    const session = new SetupTokenSession(pty, options.onLine)
    const timeoutMs = options.urlTimeoutMs ?? 30_000
    // Only complete lines: a URL cut at a chunk boundary must not be taken.
    const completeLines = () => {
      const text = session.text()
      return session.exitInfo ? text : text.slice(0, text.lastIndexOf('\n') + 1)
    }
    let found = await session.waitFor(() => findLoginUrl(completeLines()) ?? (session.exitInfo ? null : undefined), timeoutMs)
    if (found === null) {
      await sleep(DRAIN_MS) // the pty can report the exit before the last output
      found = findLoginUrl(completeLines()) ?? null
    }
    if (!found) {
      const tail = meaningfulLines(session.text()).slice(-5).join(' | ')
      session.kill()
      const why = session.exitInfo ? `it exited (code ${session.exitInfo.exitCode})` : `none appeared within ${Math.round(timeoutMs / 1000)} s`
      throw new MakimaError('FAILED', `\`claude setup-token\` printed no login URL: ${why}${tail ? `; its output: ${redactTokens(tail)}` : ''}`)
    }
    session.loginUrl = found
    return session
  }

  get pid(): number {
    return this.pty.pid
  }

  /** setup-token has exited (or was ended). */
  get ended(): boolean {
    return this.exitInfo !== undefined || this.killed
  }

  /** Everything printed so far, as plain text. */
  text(): string {
    return cleanTerminalText(this.raw)
  }

  /**
   * Type the code and Enter, then wait (up to `timeoutMs`) for setup-token to say whether it
   * worked. The process is ended afterwards either way.
   */
  async submitCode(code: string, timeoutMs = 60_000): Promise<LoginResult> {
    const trimmed = code.trim()
    if (trimmed === '') throw new MakimaError('INVALID_INPUT', 'the code is empty')
    // eslint-disable-next-line no-control-regex
    if (/[\r\n\x00-\x1f]/.test(trimmed)) throw new MakimaError('INVALID_INPUT', 'the code must be one line of printable text')
    if (this.submitted) throw new MakimaError('INVALID_STATE', 'a code was already given to this login; start a new one')
    if (this.ended) throw new MakimaError('INVALID_STATE', '`claude setup-token` has already ended; start a new login')
    this.submitted = true
    this.code = trimmed
    // Type only once the prompt is there (a key pressed earlier can mean something else to the UI).
    await this.waitFor(() => (/paste\s*code|code\s*here|enter.*code/i.test(this.text()) || this.exitInfo ? true : undefined), 5000)
    const from = this.raw.length
    this.pty.write(trimmed)
    await sleep(150)
    this.pty.write('\r')
    const after = () => cleanTerminalText(this.raw.slice(from))
    const isEcho = (line: string) => this.isEcho(line)
    /** the deciding line: success or failure text */
    const verdict = (): {success: boolean; line: string} | undefined => {
      for (const line of meaningfulLines(after())) {
        if (isEcho(line)) continue
        if (FAILURE_RE.test(line)) return {success: false, line}
        if (SUCCESS_RE.test(line) || TOKEN_ONE.test(line)) return {success: true, line}
      }
      return undefined
    }
    let decided = await this.waitFor(() => verdict() ?? (this.exitInfo ? null : undefined), timeoutMs)
    if (decided === null) {
      await sleep(DRAIN_MS) // the pty can report the exit before the last output
      decided = verdict() ?? null
    }
    if (decided) await this.waitFor(() => (this.exitInfo ? true : undefined), 1500) // let it finish printing
    this.kill()
    const output = meaningfulLines(after())
      .filter((l) => !isEcho(l))
      .join('\n')
    const token = output.match(TOKEN_RE)?.[0]
    if (decided) return {success: decided.success, message: decided.line, output, token}
    if (this.exitInfo) {
      const ok = this.exitInfo.exitCode === 0
      const message = ok ? '`claude setup-token` finished' : `\`claude setup-token\` exited with code ${this.exitInfo.exitCode}`
      return {success: ok, message: output ? `${message}: ${output.split('\n').slice(-3).join(' | ')}` : message, output, token}
    }
    return {success: false, message: `no answer from \`claude setup-token\` within ${Math.round(timeoutMs / 1000)} s of typing the code`, output}
  }

  /** The terminal may echo the code (a cooked tty) or show it masked ("****TY#123"). */
  private isEcho(line: string): boolean {
    if (!this.code) return false
    const shown = line.replace(/^[*•·]+/, '')
    return line.includes(this.code) || (shown.length < line.length && this.code.endsWith(shown))
  }

  /** End setup-token (SIGTERM, then SIGKILL a second later if it is still there). */
  kill(): void {
    if (this.killed || this.exitInfo) return
    this.killed = true
    // The whole process group: the holding shell and setup-token under it (node-pty starts the
    // shell as a session leader, so its group id is its pid).
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-this.pty.pid, signal)
      } catch {
        try {
          process.kill(this.pty.pid, signal)
        } catch {
          // gone already
        }
      }
    }
    signalGroup('SIGTERM')
    // Unconditionally: the shell can be gone while setup-token under it is not.
    setTimeout(() => signalGroup('SIGKILL'), 1000).unref()
  }

  /** Resolves when setup-token has exited. */
  async exited(timeoutMs = 5000): Promise<boolean> {
    return (await this.waitFor(() => (this.exitInfo ? true : undefined), timeoutMs)) === true
  }

  /** Poll `check` on every output change until it returns a value other than undefined, or time out (undefined). */
  private waitFor<T>(check: () => T | undefined, timeoutMs: number): Promise<T | undefined> {
    return new Promise((resolve) => {
      const test = (): boolean => {
        const value = check()
        if (value === undefined) return false
        finish(value)
        return true
      }
      const finish = (value: T | undefined) => {
        clearTimeout(timer)
        this.waiters.delete(waiter)
        resolve(value)
      }
      const waiter = () => void test()
      const timer = setTimeout(() => finish(undefined), timeoutMs)
      this.waiters.add(waiter)
      test()
    })
  }

  private notify(): void {
    for (const w of [...this.waiters]) w()
  }

  private emitLines(chunk: string): void {
    if (!this.onLine) return
    this.lineBuffer += chunk
    const parts = this.lineBuffer.split('\n')
    this.lineBuffer = parts.pop() ?? ''
    for (const line of meaningfulLines(cleanTerminalText(parts.join('\n')))) {
      if (!this.code) this.onLine(redactTokens(line))
      else this.onLine(redactTokens(this.isEcho(line) && !line.includes(this.code) ? '[code]' : line.split(this.code).join('[code]')))
    }
  }
}
