// Claude Code authentication through the built CLI: a 401 from the (scripted) API fails the task
// within seconds with what to do, without any login prompt; `makima auth login` drives
// `claude setup-token` in a pseudo-terminal; `makima auth status` asks the real claude.
//
// The 401 and status tests run the REAL claude. The login tests use test/support/fake-claude/claude,
// the one fake in the suite (the real setup-token needs a browser sign-in; see its header).
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {recordClaudeArgv} from '../support/claude-recorder.js'
import {runCli, useCleanup} from '../support/cli.js'
import {projectRoot, testEnv} from '../support/env.js'
import {isAlive} from '../support/processes.js'
import {taskWorld} from '../support/task-helpers.js'

useCleanup()

const FAKE_CLAUDE = join(projectRoot, 'test', 'support', 'fake-claude', 'claude')
const GOOD_CODE = 'GOOD-CODE-1234#fake-state'
const URL_RE = /https:\/\/claude\.com\/cai\/oauth\/authorize\?code=true&\S+&state=fake-state-\d+-\d+/

describe('a 401 from the API', () => {
  test('fails the task within seconds (default retries) with "run `makima auth login`", and starts no login', async () => {
    const w = await taskWorld(() => ({status: 401, error: 'OAuth token has expired. Please obtain a new token or run /login'}))
    expect(w.t.env.CLAUDE_CODE_MAX_RETRIES).toBeUndefined() // Claude Code would retry for minutes
    const argv = await recordClaudeArgv(w)
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
  const entries = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')) : [])
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
    expect(r.stdout).not.toMatch(/\x1b/) // ANSI stripped
    expect(r.stdout).toContain('Long-lived authentication token created successfully!')
    expect(r.stdout).toMatch(/sk-ant-oat01-FAKEFAKEFAKE-\d+/)
    expect(r.stdout).toContain('CLAUDE_CODE_OAUTH_TOKEN')
    const log = entries()
    expect(log.map((e) => e.slice(1).join(' '))).toEqual(['start', `code ${GOOD_CODE}`])
    expect(isAlive(Number(log[0][0]))).toBe(false)
  })

  test('--json: the URL, the outcome and the token as one JSON value', async () => {
    const {t} = loginEnv()
    const r = await runCli(['auth', 'login', '--json', '--code', GOOD_CODE], {env: t.env, timeoutMs: 30_000})
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout)
    expect(out).toMatchObject({success: true, message: '✓ Long-lived authentication token created successfully!'})
    expect(out.loginUrl).toMatch(new RegExp(`^${URL_RE.source}$`))
    expect(out.token).toMatch(/^sk-ant-oat01-FAKEFAKEFAKE-\d+$/)
  })

  test('without --code the code is read from stdin and passed through', async () => {
    const {t, entries} = loginEnv()
    const r = await runCli(['auth', 'login'], {env: t.env, input: `${GOOD_CODE}\n`, timeoutMs: 30_000})
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toMatch(URL_RE)
    expect(r.stdout).toContain('created successfully')
    expect(entries().map((e) => e.slice(1).join(' '))).toEqual(['start', `code ${GOOD_CODE}`])
  })

  test('a wrong code: exit 1 with setup-token\'s failure text, and setup-token is ended', async () => {
    const {t, entries} = loginEnv()
    const r = await runCli(['auth', 'login', '--code', 'not-the-code'], {env: t.env, timeoutMs: 30_000})
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('Error: Claude Code login failed: OAuth error: invalid code')
    const log = entries()
    expect(log.map((e) => e.slice(1).join(' '))).toEqual(['start', 'code not-the-code'])
    // The fake waits at "Press Enter to retry" like the real one: makima must have ended it.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    expect(isAlive(Number(log[0][0]))).toBe(false)
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
