import {Flags} from '@oclif/core'

import {MakimaCommand} from '../../cli/base-command.js'
import {MakimaError} from '../../lib/errors.js'

export default class AuthLogin extends MakimaCommand {
  static override summary = 'Log Claude Code in: `claude setup-token` in a pseudo-terminal, with the code you paste'
  static override description = `Runs \`<process.claudeCommand> setup-token\` in a pseudo-terminal and prints the login URL it shows. Open it in a browser, sign in, and paste the code the page gives you (or pass it with --code). The code is typed into setup-token, and its answer is reported: exit 0 when the token was created, 1 with setup-token's error text otherwise.

setup-token creates a long-lived token (valid for a year). makima saves it in MAKIMA_HOME (claude-oauth-token.json, mode 0600) and gives it to its tasks as CLAUDE_CODE_OAUTH_TOKEN, so nothing needs exporting; a CLAUDE_CODE_OAUTH_TOKEN you set yourself afterwards takes precedence. The token is not printed unless you ask for it with --show-token (to put it in a Kubernetes Secret, say).

makima never starts this by itself: a task whose Claude Code is not logged in fails and says to run it (the daemon starts the same flow for the server).`

  static override examples = [
    '<%= config.bin %> auth login',
    '<%= config.bin %> auth login --code "abc123#xyz"',
    '<%= config.bin %> auth login --json --code "$CODE"',
    '<%= config.bin %> auth login --show-token   # also print the token, e.g. for a Kubernetes Secret',
  ]

  static override flags = {
    code: Flags.string({description: 'the code the login page shows (default: asked for on stdin)'}),
    timeout: Flags.integer({description: 'seconds the whole login may take', default: 300, min: 1}),
    'show-token': Flags.boolean({description: 'print the new token (it is a secret: it gives access to your Claude account)'}),
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(AuthLogin)
    const config = this.makimaConfig()
    const {resolveClaudeCommand} = await import('../../lib/claude/invocation.js')
    const {cleanEnvironment} = await import('../../lib/claude/task-env.js')
    const {SetupTokenSession} = await import('../../lib/claude/setup-token.js')
    const claude = resolveClaudeCommand(config.process.claudeCommand, process.env.PATH)
    const deadline = Date.now() + flags.timeout * 1000
    const left = () => Math.max(1000, deadline - Date.now())
    const info = (line: string) => (this.jsonEnabled() ? process.stderr : process.stdout).write(`${line}\n`)

    this.note(`Starting \`${claude} setup-token\`...`)
    const session = await SetupTokenSession.start({command: claude, env: cleanEnvironment(process.env), cwd: process.cwd(), urlTimeoutMs: Math.min(60_000, left())})
    let timer: NodeJS.Timeout | undefined
    try {
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          session.kill()
          reject(new MakimaError('FAILED', `the login did not finish within ${flags.timeout} s (--timeout)`))
        }, left())
      })
      info('Open this URL in a browser and sign in to Claude:')
      info('')
      info(`  ${session.loginUrl}`)
      info('')
      const code = flags.code ?? (await Promise.race([readCode(), timedOut]))
      const result = await Promise.race([session.submitCode(code, left()), timedOut])
      if (!result.success) throw new MakimaError('FAILED', `Claude Code login failed: ${result.message}`)
      const {saveStoredToken} = await import('../../lib/claude/stored-token.js')
      const {redactTokens} = await import('../../lib/claude/terminal-text.js')
      const tokenFile = result.token ? saveStoredToken(config.home, result.token, process.env.CLAUDE_CODE_OAUTH_TOKEN) : null
      const shown = (text: string) => (flags['show-token'] ? text : redactTokens(text))
      if (this.jsonEnabled()) {
        return {success: true, loginUrl: session.loginUrl, message: shown(result.message), tokenFile, ...(flags['show-token'] ? {token: result.token ?? null} : {})}
      }
      for (const line of result.output.split('\n')) info(shown(line))
      if (tokenFile) info(`\nSaved the token to ${tokenFile}: makima's tasks use it from now on.`)
      else info('\nsetup-token printed no token to save: set CLAUDE_CODE_OAUTH_TOKEN yourself where makima runs.')
      return undefined
    } finally {
      clearTimeout(timer)
      session.kill()
    }
  }
}

/** One line from stdin: a prompt on a terminal, or the first line piped in. */
async function readCode(): Promise<string> {
  const {createInterface} = await import('node:readline')
  const rl = createInterface({input: process.stdin, output: process.stdin.isTTY ? process.stderr : undefined, terminal: Boolean(process.stdin.isTTY)})
  try {
    if (!process.stdin.isTTY) process.stderr.write('Reading the code from stdin...\n')
    const line = await new Promise<string | undefined>((resolve) => {
      let answered = false
      rl.question('Paste the code from the login page here: ', (answer) => {
        answered = true
        resolve(answer)
      })
      rl.once('close', () => {
        if (!answered) resolve(undefined)
      })
    })
    const code = line?.trim() ?? ''
    if (code === '') throw new MakimaError('INVALID_INPUT', 'no code was given (paste the code the login page shows, or pass --code)')
    return code
  } finally {
    rl.close()
  }
}
