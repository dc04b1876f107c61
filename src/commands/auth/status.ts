import {MakimaCommand} from '../../cli/base-command.js'

export default class AuthStatus extends MakimaCommand {
  static override summary = "Show whether Claude Code is logged in, as makima's tasks will see it"
  static override description = `Asks \`<process.claudeCommand> auth status\` (offline: it reads the environment and Claude Code's stored credentials, it does not call the API) with the environment tasks get, including the token \`makima auth login\` saved. Exit 0 when logged in, 1 when not. A token that has expired or was revoked still counts as logged in here; a task then fails with "run \`makima auth login\`".`

  static override examples = ['<%= config.bin %> auth status', '<%= config.bin %> auth status --json']

  async run(): Promise<unknown> {
    const config = this.makimaConfig()
    const {resolveClaudeCommand} = await import('../../lib/claude/invocation.js')
    const {cleanEnvironment} = await import('../../lib/claude/task-env.js')
    const {claudeAuthStatus} = await import('../../lib/claude/auth-status.js')
    const claude = resolveClaudeCommand(config.process.claudeCommand, process.env.PATH)
    const {withStoredToken} = await import('../../lib/claude/stored-token.js')
    const status = await claudeAuthStatus(claude, cleanEnvironment(withStoredToken(process.env, config.home)))
    if (!status.loggedIn) process.exitCode = 1
    if (this.jsonEnabled()) return status
    this.say(`Claude Code  ${status.loggedIn ? 'logged in' : 'NOT logged in'}`)
    this.say(`method       ${status.authMethod}${status.apiKeySource ? ` (${status.apiKeySource})` : ''}`)
    if (status.apiProvider) this.say(`provider     ${status.apiProvider}`)
    this.say(`checked by   ${status.source}`)
    if (!status.loggedIn) this.say('Run `makima auth login` to log in.')
    return undefined
  }
}
