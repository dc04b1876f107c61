// Claude Code authentication through the built CLI: a 401 from the (scripted) API fails the task
// within seconds with what to do, without any login prompt; `makima auth login` drives
// `claude setup-token` in a pseudo-terminal; `makima auth status` asks the real claude.
//
// The 401 and status tests run the REAL claude; the 401 test runs on both tested versions
// (CLAUDE_VERSIONS), since it reads what Claude Code prints. The login tests use test/support/fake-claude/claude,
// the one fake in the suite (the real setup-token needs a browser sign-in; see its header).
import {existsSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {recordClaudeArgv} from '../support/claude-recorder.js'
import {runCli, useCleanup} from '../support/cli.js'
import {CLAUDE_VERSIONS, PINNED_CLAUDE, projectRoot, testEnv} from '../support/env.js'
import {isAlive, waitFor} from '../support/processes.js'
import {taskWorld} from '../support/task-helpers.js'

useCleanup()

const FAKE_CLAUDE = join(projectRoot, 'test', 'support', 'fake-claude', 'claude')
const REAL_CLAUDE = PINNED_CLAUDE
const GOOD_CODE = 'GOOD-CODE-1234#fake-state'
const URL_RE = /https:\/\/claude\.com\/cai\/oauth\/authorize\?code=true&\S+&state=fake-state-\d+-\d+/

describe.each(CLAUDE_VERSIONS)('a 401 from the API (Claude Code $label)', ({bin}) => {
  test('fails the task within seconds (default retries) with "run `makima auth login`", and starts no login', async () => {
    const w = await taskWorld(() => ({status: 401, error: 'OAuth token has expired. Please obtain a new token or run /login'}))
    expect(w.t.env.CLAUDE_CODE_MAX_RETRIES).toBeUndefined() // Claude Code would retry for minutes
    const argv = await recordClaudeArgv(w, bin)
    const started = Date.now()
    // stdin stays open: a login prompt would wait on it forever.
    const p = w.spawn(['task', 'spawn', '--json', '--repo', w.repo.dir, 'a plan that meets an expired token'])
    const exit = await Promise.race([p.wait(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`still running after 40 s\n${p.stdout}\n${p.stderr}`)), 40_000))])
    const elapsedMs = Date.now() - started
    console.log(`401 -> task failed after ${elapsedMs} ms (makima start-up + claude start + first 401 + stop)`)
    expect(exit.code, exit.stderr).toBe(1)
    expect(elapsedMs).toBeLessThan(20_000)
    const task = JSON.parse(exit.stdout)
    expect(task.state).toBe('failed')
    expect(task.failureKind).toBe('auth') // scripts (and the daemon's login flow) tell it apart without parsing the text
    expect(task.error).toMatch(/^Claude Code is not logged in or its token expired: run `makima auth login` \(API authentication failed \(HTTP 401, authentication_failed\) on attempt 1\//)
    const ranMs = Date.parse(task.completedAt) - Date.parse(task.startedAt)
    console.log(`401 -> claude started to task failed: ${ranMs} ms`)
    expect(ranMs).toBeLessThan(15_000)
    // The API saw the retries begin, not all ten of them.
    expect(w.api.messageRequests().length).toBeGreaterThanOrEqual(1)
    expect(w.api.messageRequests().length).toBeLessThan(5)
    // One claude process, the task's; no setup-token, no URL, no prompt.
    const runs = argv()
    expect(runs).toHaveLength(1)
    expect(runs[0]).toContain('-p')
    expect(runs.flat()).not.toContain('setup-token')
    expect(`${exit.stdout}${exit.stderr}`).not.toMatch(/oauth\/authorize|Paste|code here/i)
    expect(exit.stderr).toContain('run `makima auth login`')
  })
})

function loginEnv() {
  const t = testEnv()
  const log = join(t.root, 'fake-setup-token.log')
  t.env.MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND = FAKE_CLAUDE
  t.env.FAKE_SETUP_TOKEN_LOG = log
  const entries = () =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split(' '))
      : []
  return {t, entries}
}

describe('makima auth login (fake setup-token)', () => {
  test('--code: prints the whole login URL on one line, types the code, reports success', async () => {
    const {t, entries} = loginEnv()
    const r = await runCli(['auth', 'login', '--code', GOOD_CODE], {env: t.env, timeoutMs: 30_000})
    expect(r.code, r.stderr).toBe(0)
    // The fake wraps the URL at the terminal width: one whole line means the pty was wide.
    const line = r.stdout.split('\n').find((l) => l.includes('https://'))
    expect(line?.trim()).toMatch(new RegExp(`^${URL_RE.source}$`))
    // eslint-disable-next-line no-control-regex
    expect(r.stdout).not.toMatch(/\x1b/) // ANSI stripped
    expect(r.stdout).toContain('Long-lived authentication token created successfully!')
    // The token is saved for the tasks (0600), not printed.
    expect(r.stdout + r.stderr).not.toContain('sk-ant-oat01-FAKE')
    const tokenFile = join(t.makimaHome, 'claude-oauth-token.json')
    expect(r.stdout).toContain(`Saved the token to ${tokenFile}`)
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(tokenFile, 'utf8')).token).toMatch(/^sk-ant-oat01-FAKEFAKEFAKE-\d+$/)
    const log = entries()
    expect(log.map((e) => e.slice(1).join(' '))).toEqual(['start', `code ${GOOD_CODE}`])
    expect(isAlive(Number(log[0][0]))).toBe(false)
  })

  test('--json: the URL, the outcome and where the token went as one JSON value; --show-token adds the token', async () => {
    const {t} = loginEnv()
    const r = await runCli(['auth', 'login', '--json', '--code', GOOD_CODE], {env: t.env, timeoutMs: 30_000})
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out).toEqual({
      success: true,
      message: '✓ Long-lived authentication token created successfully!',
      loginUrl: expect.stringMatching(new RegExp(`^${URL_RE.source}$`)),
      tokenFile: join(t.makimaHome, 'claude-oauth-token.json'),
    })
    const shown = await runCli(['auth', 'login', '--json', '--show-token', '--code', GOOD_CODE], {env: t.env, timeoutMs: 30_000})
    expect(shown.code, shown.stderr).toBe(0)
    const token = JSON.parse(shown.stdout).token
    expect(token).toMatch(/^sk-ant-oat01-FAKEFAKEFAKE-\d+$/)
    expect(JSON.parse(readFileSync(join(t.makimaHome, 'claude-oauth-token.json'), 'utf8')).token).toBe(token)
  })

  test('the saved token: auth status and tasks use it; a token set in the environment later wins, the one it replaced does not', async () => {
    // The API takes only the token the (fake) setup-token hands out.
    const w = await taskWorld(
      (ctx) => (String(ctx.request.headers.authorization ?? '').includes('Bearer sk-ant-oat01-FAKEFAKEFAKE-') ? {text: 'Working with the saved token.'} : {status: 401, error: 'invalid x-api-key'}),
      {ANTHROPIC_API_KEY: undefined, CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-EXPIRED-token', MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: FAKE_CLAUDE, REAL_CLAUDE},
    )
    const before = await w.makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'before the login'])
    expect(before.code).toBe(1)
    expect(JSON.parse(before.stdout).error).toContain('run `makima auth login`')

    const login = await w.makima(['auth', 'login', '--code', GOOD_CODE])
    expect(login.code, login.stderr).toBe(0)
    const status = await w.makima(['auth', 'status', '--json'])
    expect(status.code, status.stderr).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({loggedIn: true, authMethod: 'oauth_token'})
    const after = await w.makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'after the login'])
    expect(after.code, after.stderr).toBe(0)
    expect(JSON.parse(after.stdout).state).toBe('completed')
    expect(w.api.requests.some((r) => String(r.headers.authorization).startsWith('Bearer sk-ant-oat01-FAKEFAKEFAKE-'))).toBe(true)

    // Someone sets a different token afterwards: theirs is used (here refused by the API).
    w.t.env.CLAUDE_CODE_OAUTH_TOKEN = 'sk-ant-oat01-SET-LATER'
    const later = await w.makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'with the later token'])
    expect(later.code).toBe(1)
    expect(w.api.requests.some((r) => String(r.headers.authorization) === 'Bearer sk-ant-oat01-SET-LATER')).toBe(true)
  })

  test('without --code the code is read from stdin and passed through', async () => {
    const {t, entries} = loginEnv()
    const r = await runCli(['auth', 'login'], {env: t.env, input: `${GOOD_CODE}\n`, timeoutMs: 30_000})
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(URL_RE)
    expect(r.stdout).toContain('created successfully')
    expect(entries().map((e) => e.slice(1).join(' '))).toEqual(['start', `code ${GOOD_CODE}`])
  })

  test("a wrong code: exit 1 with setup-token's failure text, and setup-token is ended", async () => {
    const {t, entries} = loginEnv()
    const r = await runCli(['auth', 'login', '--code', 'not-the-code'], {env: t.env, timeoutMs: 30_000})
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('Error: Claude Code login failed: OAuth error: invalid code')
    const log = entries()
    expect(log.map((e) => e.slice(1).join(' '))).toEqual(['start', 'code not-the-code'])
    // The fake waits at "Press Enter to retry" like the real one: makima must have ended it.
    await waitFor(() => !isAlive(Number(log[0][0])), {timeoutMs: 10_000, description: `setup-token (pid ${log[0][0]}) ended`})
  })

  test('no code on stdin: exit 2 saying so; --timeout ends a login nobody answers', async () => {
    const {t, entries} = loginEnv()
    const empty = await runCli(['auth', 'login'], {env: t.env, input: '', timeoutMs: 30_000})
    expect(empty.code).toBe(2)
    expect(empty.stderr).toContain('no code was given')

    const started = Date.now()
    const {spawnCli} = await import('../support/cli.js')
    const p = spawnCli(['auth', 'login', '--timeout', '3'], {env: t.env}) // stdin open, never answered
    const exit = await p.wait()
    expect(exit.code).toBe(1)
    expect(exit.stderr).toContain('the login did not finish within 3 s (--timeout)')
    expect(Date.now() - started).toBeLessThan(15_000)
    for (const [pid] of entries()) expect(isAlive(Number(pid))).toBe(false)
  })
})

describe('makima auth status (real claude)', () => {
  test('logged in with an API key; not logged in without any credentials (exit 1)', async () => {
    const t = testEnv()
    const yes = await runCli(['auth', 'status', '--json'], {env: t.env, timeoutMs: 30_000})
    expect(yes.code, yes.stderr).toBe(0)
    expect(JSON.parse(yes.stdout)).toMatchObject({loggedIn: true, authMethod: 'api_key', apiKeySource: 'ANTHROPIC_API_KEY'})
    expect(JSON.parse(yes.stdout).source).toMatch(/claude auth status$/)

    const no = testEnv({extra: {ANTHROPIC_API_KEY: undefined}})
    const r = await runCli(['auth', 'status'], {env: no.env, timeoutMs: 30_000})
    expect(r.code).toBe(1)
    expect(r.stdout).toContain('NOT logged in')
    expect(r.stdout).toContain('makima auth login')
  })
})
