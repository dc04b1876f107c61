import {accessSync, constants, mkdirSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {openHome} from '../config/home-permissions.js'
import type {CheckResult, DoctorContext} from './check-result.js'

export type {CheckResult, CheckStatus, DoctorContext} from './check-result.js'

const NETWORK_TIMEOUT_MS = 3000

/** Run a program; undefined when it is not installed. */
async function run(command: string, args: string[], env: Record<string, string | undefined>, timeoutMs = 5000): Promise<{ok: boolean; out: string} | undefined> {
  const {execa} = await import('execa')
  const r = await execa(command, args, {reject: false, timeout: timeoutMs, env: env as Record<string, string>, extendEnv: false, stdin: 'ignore'})
  if (r.exitCode === undefined && (r as {code?: string}).code === 'ENOENT') return undefined
  return {ok: r.exitCode === 0, out: `${String(r.stdout ?? '')}\n${String(r.stderr ?? '')}`.trim()}
}

/** makima supports the Node.js versions package.json `engines` names (README "Install"). */
export const SUPPORTED_NODE = '22, 24 and 26'

export function checkNode(ctx: DoctorContext): CheckResult {
  const major = Number(ctx.nodeVersion.replace(/^v/, '').split('.')[0])
  if (major < 20) return {check: 'node', status: 'fail', detail: `Node ${ctx.nodeVersion} is too old; makima supports ${SUPPORTED_NODE}`, fix: 'install Node.js 24 (LTS)'}
  if (major < 22) {
    return {
      check: 'node',
      status: 'warn',
      detail: `Node ${ctx.nodeVersion}: Node ${major} reached end of life in ${major === 20 ? 'April 2026' : 'June 2024'}; makima supports ${SUPPORTED_NODE}`,
      fix: "install Node.js 24 (LTS), then npm rebuild in makima's folder (or reinstall makima)",
    }
  }
  return {check: 'node', status: 'ok', detail: `Node ${ctx.nodeVersion}`}
}

export async function checkGit(ctx: DoctorContext): Promise<CheckResult> {
  const {gitVersion} = await import('../git/git-runner.js')
  const version = await gitVersion(ctx.env)
  return version ? {check: 'git', status: 'ok', detail: version} : {check: 'git', status: 'fail', detail: 'git was not found', fix: 'install git (apt-get install git)'}
}

/** Claude Code's own offline answer, with the environment tasks get (`makima auth status`). */
export async function checkClaudeAuth(ctx: DoctorContext): Promise<CheckResult | undefined> {
  const {resolveClaudeCommand} = await import('../claude/invocation.js')
  let claude: string
  try {
    claude = resolveClaudeCommand(ctx.config.process.claudeCommand, ctx.env.PATH)
  } catch {
    return undefined // the claude check already says it is missing
  }
  const {cleanEnvironment} = await import('../claude/task-env.js')
  const {claudeAuthStatus} = await import('../claude/auth-status.js')
  const {withStoredToken} = await import('../claude/stored-token.js')
  const status = await claudeAuthStatus(claude, cleanEnvironment(withStoredToken(ctx.env, ctx.config.home)), 10_000)
  const how = `${status.authMethod}${status.apiKeySource ? ` (${status.apiKeySource})` : ''}`
  return status.loggedIn
    ? {check: 'auth', status: 'ok', detail: `Claude Code is logged in: ${how}`}
    : {check: 'auth', status: 'fail', detail: 'Claude Code is not logged in (tasks would fail at their first request)', fix: 'makima auth login, or set ANTHROPIC_API_KEY'}
}

export async function checkGh(ctx: DoctorContext): Promise<CheckResult> {
  const r = await run('gh', ['auth', 'status'], ctx.env)
  if (!r) return {check: 'gh', status: 'warn', detail: 'GitHub CLI not found (needed only for --completion-action pr)', fix: 'install gh and run gh auth login'}
  return r.ok
    ? {check: 'gh', status: 'ok', detail: 'GitHub CLI authenticated'}
    : {check: 'gh', status: 'warn', detail: 'GitHub CLI is not logged in (needed only for --completion-action pr)', fix: 'gh auth login'}
}

export async function checkBubblewrap(ctx: DoctorContext): Promise<CheckResult | undefined> {
  if (!ctx.config.process.bubblewrap.enabled) return undefined
  const r = await run('bwrap', ['--version'], ctx.env)
  return r?.ok
    ? {check: 'bwrap', status: 'ok', detail: r.out.split('\n')[0]}
    : {check: 'bwrap', status: 'fail', detail: 'process.bubblewrap.enabled is set but bwrap was not found', fix: 'apt-get install bubblewrap, or makima config set process.bubblewrap.enabled false'}
}

export function checkHome(ctx: DoctorContext): CheckResult {
  const home = ctx.config.home
  try {
    mkdirSync(home, {recursive: true, mode: 0o700})
    accessSync(home, constants.W_OK)
    const probe = path.join(home, `.doctor-${process.pid}`)
    writeFileSync(probe, 'ok')
    rmSync(probe)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOTDIR' || code === 'EEXIST') {
      return {check: 'home', status: 'fail', detail: `MAKIMA_HOME ${home} is not a directory (or is under a file): ${(error as Error).message}`, fix: 'set MAKIMA_HOME to a directory'}
    }
    return {check: 'home', status: 'fail', detail: `MAKIMA_HOME ${home} is not writable: ${(error as Error).message}`, fix: `chmod u+w ${home}, or set MAKIMA_HOME to a directory you can write`}
  }
  const open = openHome(home)
  if (open) return {check: 'home', status: 'warn', detail: open.detail, fix: open.fix}
  return {check: 'home', status: 'ok', detail: `MAKIMA_HOME ${home} is writable and private`}
}

/** How to fix a database that cannot be used, by what is wrong with it (database-errors.ts). */
const DATABASE_FIXES = {
  damaged: 'makima doctor --repair (moves it aside and starts a fresh database; the task history stays in the copy)',
  unwritable: 'chmod u+w on the directory (or file) named above, or set MAKIMA_HOME (or localDb.path) to a directory you can write',
  path: 'set MAKIMA_HOME (or localDb.path) to a directory',
}

async function databaseFix(problem: keyof typeof DATABASE_FIXES | 'native'): Promise<string> {
  if (problem !== 'native') return DATABASE_FIXES[problem]
  return (await import('../store/database-errors.js')).rebuildCommand()
}

export async function checkDatabase(ctx: DoctorContext): Promise<CheckResult> {
  const file = ctx.config.localDb.path
  const {Store} = await import('../store/store.js')
  const {MIGRATIONS} = await import('../store/schema.js')
  const {databaseError, databaseProblem} = await import('../store/database-errors.js')
  let version: number
  let tasks: number
  try {
    const store = Store.open(file)
    try {
      version = store.schemaVersion
      tasks = store.tasks.list({all: true}).length
    } finally {
      store.close()
    }
  } catch (error) {
    const problem = databaseProblem(error)
    return {check: 'database', status: 'fail', detail: databaseError(file, error).message, fix: problem ? await databaseFix(problem) : 'check localDb.path and its directory permissions'}
  }
  return version === MIGRATIONS.length
    ? {check: 'database', status: 'ok', detail: `${file}: schema ${version}, ${tasks} tasks`}
    : {check: 'database', status: 'fail', detail: `schema ${version}, this makima expects ${MIGRATIONS.length}`, fix: 'upgrade makima (the database is newer than this version)'}
}

/** A short authenticate handshake against the server; gives up after 3 s. */
export async function checkServer(ctx: DoctorContext): Promise<CheckResult | undefined> {
  const {serverApiKey} = await import('../secrets/server-key.js')
  let apiKey: string | undefined
  try {
    apiKey = serverApiKey(ctx.config)?.key
  } catch (error) {
    return {check: 'server', status: 'fail', detail: (error as Error).message, fix: 'point server.apiKeyFile at a readable file holding the key'}
  }
  if (!apiKey)
    return {check: 'server', status: 'warn', detail: 'no server API key (needed only by makima daemon)', fix: 'set MAKIMA_DAEMON_SERVER_APIKEY, or makima config set server.apiKeyFile <file>'}
  const {daemonUrl} = await import('../daemon/connection.js')
  const {default: WebSocket} = await import('ws')
  const url = daemonUrl(ctx.config.server.url)
  return new Promise<CheckResult>((resolve) => {
    const ws = new WebSocket(url, {handshakeTimeout: NETWORK_TIMEOUT_MS})
    const done = (result: CheckResult) => {
      clearTimeout(timer)
      ws.removeAllListeners()
      ws.on('error', () => undefined)
      ws.terminate()
      resolve(result)
    }
    const timer = setTimeout(() => done({check: 'server', status: 'fail', detail: `${url}: no answer within 3 s`, fix: 'check server.url and the network'}), NETWORK_TIMEOUT_MS)
    ws.on('open', () => ws.send(JSON.stringify({type: 'authenticate', apiKey, hostname: 'makima-doctor', version: 'doctor', maxConcurrentTasks: 0, activeTaskIds: [], lastAckedSeq: null})))
    ws.on('message', (data) => {
      let msg: {type?: string; code?: string; message?: string} = {}
      try {
        msg = JSON.parse(data.toString())
      } catch {
        // ignore
      }
      if (msg.type === 'authenticated') done({check: 'server', status: 'ok', detail: `${url}: API key accepted`})
      else if (msg.type === 'error') done({check: 'server', status: 'fail', detail: `${url}: ${msg.code ?? 'error'}: ${msg.message ?? ''}`, fix: 'check server.apiKey'})
    })
    ws.on('error', (error) => done({check: 'server', status: 'fail', detail: `${url}: ${error.message}`, fix: 'check server.url and the network'}))
  })
}

/** Warns when a makima secret is kept where a task (running as the same user) can read it. */
export async function checkSecrets(ctx: DoctorContext): Promise<CheckResult> {
  const {exposedSecrets} = await import('../secrets/server-key.js')
  const exposed = exposedSecrets(ctx.config, ctx.env)
  if (exposed.length === 0) return {check: 'secrets', status: 'ok', detail: 'no makima secret is kept where tasks can read it'}
  return {check: 'secrets', status: 'warn', detail: exposed.join('; '), fix: 'README "Security": what a task can reach'}
}

export async function runChecks(ctx: DoctorContext): Promise<CheckResult[]> {
  const results = await Promise.all([
    checkNode(ctx),
    checkGit(ctx),
    import('./claude-check.js').then((m) => m.checkClaude(ctx)),
    checkClaudeAuth(ctx),
    checkGh(ctx),
    checkBubblewrap(ctx),
    checkHome(ctx),
    import('./disk-check.js').then((m) => m.checkDisk(ctx)),
    checkDatabase(ctx),
    checkServer(ctx),
    checkSecrets(ctx),
    import('./daemon-check.js').then((m) => m.checkDaemon(ctx)),
    import('./rate-limit-check.js').then((m) => m.checkRateLimit(ctx)),
  ])
  return results.filter((r): r is CheckResult => r !== undefined)
}
