// The daemon's Claude Code login flow (docs/protocol.md "OAuth codes") through the built
// `makima daemon` and a minimal WebSocket server in this file: a daemon task whose REAL claude meets
// a 401 fails with "run `makima auth login`", the daemon runs setup-token in a pseudo-terminal and
// sends authenticationRequired; a newer failure replaces the flow (the old setup-token is ended);
// AUTH_CODE without a flow is INVALID_STATE, a wrong code fails and a new URL is sent, the right
// code succeeds; neither the code nor the token reaches the log or the server.
//
// setup-token is test/support/fake-claude/claude, the suite's one fake (see its header); every other
// claude call of the daemon goes through it to the real CLI (REAL_CLAUDE).
import {randomBytes, randomUUID} from 'node:crypto'
import {existsSync, readFileSync, statSync} from 'node:fs'
import {createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {hostname} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, test} from 'vitest'
import {WebSocketServer, type WebSocket} from 'ws'

import {killAllSpawned, spawnCli} from '../support/cli.js'
import {cleanupAllTestEnvs, PINNED_CLAUDE, projectRoot, testEnv} from '../support/env.js'
import {makeRepo} from '../support/git-fixtures.js'
import {isAlive, waitFor} from '../support/processes.js'
import {closeAllScriptedApis, startScriptedApi} from '../support/scripted-api.js'

const FAKE_CLAUDE = join(projectRoot, 'test', 'support', 'fake-claude', 'claude')
const REAL_CLAUDE = PINNED_CLAUDE
const GOOD_CODE = 'GOOD-CODE-1234#fake-state'
const URL_RE = /^https:\/\/claude\.com\/cai\/oauth\/authorize\?code=true&\S+&state=fake-state-\d+-\d+$/

const servers: {close(): void}[] = []
afterAll(async () => {
  killAllSpawned()
  for (const s of servers) s.close()
  await closeAllScriptedApis()
  cleanupAllTestEnvs()
})

/** Just enough of the makima server: authenticate, ack every seq, record every frame, send commands. */
async function miniServer() {
  const http = createServer()
  const wss = new WebSocketServer({server: http, path: '/ws/daemon'})
  const received: any[] = []
  const listeners = new Set<() => void>()
  let socket: WebSocket | undefined
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data))
      received.push(msg)
      if (msg.type === 'authenticate') {
        socket = ws
        ws.send(JSON.stringify({type: 'authenticated', daemonId: randomUUID()}))
      }
      if (typeof msg.seq === 'number') ws.send(JSON.stringify({type: 'ack', seq: msg.seq}))
      for (const l of [...listeners]) l()
    })
  })
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const server = {
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}`,
    received,
    send(command: object) {
      if (!socket) throw new Error('no daemon connected')
      socket.send(JSON.stringify(command))
    },
    /** the first message from index `from` on that matches */
    waitFor(predicate: (m: any) => boolean, what: string, from = 0, timeoutMs = 45_000): Promise<any> {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = received.slice(from).find(predicate)
          if (!found) return
          listeners.delete(check)
          clearTimeout(timer)
          resolve(found)
        }
        const timer = setTimeout(() => {
          listeners.delete(check)
          reject(new Error(`timed out waiting for ${what}; got: ${received.map((m) => m.type).join(', ')}`))
        }, timeoutMs)
        listeners.add(check)
        check()
      })
    },
    close() {
      for (const c of wss.clients) c.terminate()
      wss.close()
      http.close()
    },
  }
  servers.push(server)
  return server
}

describe('daemon: Claude Code login flow', () => {
  test('auth failure -> authenticationRequired; newer flow replaces older; AUTH_CODE wrong then right', async () => {
    // The API takes only the token the (fake) setup-token hands out; the daemon starts with an
    // expired one, as a machine whose login ran out would.
    const api = await startScriptedApi((ctx) =>
      String(ctx.request.headers.authorization ?? '').includes('Bearer sk-ant-oat01-FAKEFAKEFAKE-')
        ? {text: 'Working with the new token.'}
        : {status: 401, error: 'OAuth token has expired. Please obtain a new token or run /login'},
    )
    const server = await miniServer()
    const t = testEnv({apiUrl: api.url, extra: {ANTHROPIC_API_KEY: undefined, CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-EXPIRED-token'}})
    const repo = makeRepo(t.root, {env: t.env})
    const fakeLog = join(t.root, 'fake-setup-token.log')
    const apiKey = `mk-secret-${randomBytes(8).toString('hex')}`
    Object.assign(t.env, {
      MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: FAKE_CLAUDE,
      REAL_CLAUDE,
      FAKE_SETUP_TOKEN_LOG: fakeLog,
      MAKIMA_DAEMON_SERVER_APIKEY: apiKey,
    })
    const fakeRuns = () =>
      existsSync(fakeLog)
        ? readFileSync(fakeLog, 'utf8')
            .split('\n')
            .filter(Boolean)
            .map((l) => l.split(' '))
        : []
    const daemon = spawnCli(['daemon', '--server-url', server.url, '--log-json'], {env: t.env, cwd: repo.dir})
    await server.waitFor((m) => m.type === 'authenticate', 'authenticate')
    // frames before the daemon has taken the server's `authenticated` are dropped: wait for it
    await daemon.waitForOutput(/connected and authenticated/, 10_000, 'stderr')

    // No flow yet: an AUTH_CODE is refused, not taken as a message for a task.
    const stray = randomUUID()
    let from = server.received.length
    server.send({type: 'sendMessage', taskId: stray, message: 'AUTH_CODE:too-early'})
    const early = await server.waitFor((m) => m.type === 'commandError', 'commandError for the early AUTH_CODE', from)
    expect(early).toMatchObject({commandType: 'sendMessage', taskId: stray, code: 'INVALID_STATE'})
    expect(early.message).toContain('no Claude Code login is waiting for a code')

    // Task 1 meets the 401 (default retries): it fails with the error, then the login URL comes.
    const task1 = randomUUID()
    const started = Date.now()
    server.send({type: 'spawnTask', taskId: task1, taskName: 'one', plan: 'first plan', repoUrl: repo.dir})
    const done1 = await server.waitFor((m) => m.type === 'taskComplete' && m.taskId === task1, 'taskComplete of task 1')
    console.log(`daemon task 401 -> taskComplete after ${Date.now() - started} ms`)
    expect(done1).toMatchObject({success: false})
    expect(done1.error).toContain('Claude Code is not logged in or its token expired: run `makima auth login`')
    const auth1 = await server.waitFor((m) => m.type === 'authenticationRequired' && m.taskId === task1, 'authenticationRequired for task 1')
    console.log(`daemon task 401 -> authenticationRequired after ${Date.now() - started} ms`)
    expect(auth1.loginUrl).toMatch(URL_RE)
    expect(auth1.hostname).toBe(hostname())
    expect(fakeRuns().map((e) => e[1])).toEqual(['start'])
    const firstPid = Number(fakeRuns()[0][0])
    expect(isAlive(firstPid)).toBe(true)

    // Task 2 fails the same way: a new flow with a new URL replaces the first (its setup-token ended).
    const task2 = randomUUID()
    server.send({type: 'spawnTask', taskId: task2, taskName: 'two', plan: 'second plan', repoUrl: repo.dir})
    const auth2 = await server.waitFor((m) => m.type === 'authenticationRequired' && m.taskId === task2, 'authenticationRequired for task 2')
    expect(auth2.loginUrl).toMatch(URL_RE)
    expect(auth2.loginUrl).not.toBe(auth1.loginUrl)
    await waitFor(() => !isAlive(firstPid), {timeoutMs: 10_000, description: `the first setup-token (pid ${firstPid}) ended`})
    const secondPid = Number(fakeRuns()[1][0])
    expect(isAlive(secondPid)).toBe(true)

    // A wrong code: commandError with setup-token's text, the flow ended, and a fresh URL sent.
    from = server.received.length
    server.send({type: 'sendMessage', taskId: task2, message: 'AUTH_CODE:wrong-code-42'})
    const wrong = await server.waitFor((m) => m.type === 'commandError', 'commandError for the wrong code', from)
    expect(wrong).toMatchObject({commandType: 'sendMessage', taskId: task2})
    expect(wrong.message).toContain('Claude Code login failed: OAuth error: invalid code')
    const auth3 = await server.waitFor((m) => m.type === 'authenticationRequired', 'a new authenticationRequired after the wrong code', from)
    expect(auth3).toMatchObject({taskId: task2, hostname: hostname()})
    expect(auth3.loginUrl).not.toBe(auth2.loginUrl)
    expect(isAlive(secondPid)).toBe(false)

    // The right code goes into the new flow's setup-token: success, no commandError.
    from = server.received.length
    server.send({type: 'sendMessage', taskId: task2, message: `AUTH_CODE:${GOOD_CODE}`})
    const note = await server.waitFor((m) => m.type === 'taskOutput' && m.taskId === task2 && String(m.output).includes('Claude Code login succeeded'), 'the success note on task 2', from)
    expect(note.output).toBe(`Claude Code login succeeded on ${hostname()}; this task can be respawned`)
    expect(server.received.slice(from).filter((m) => m.type === 'commandError')).toEqual([])
    const runs = fakeRuns()
    expect(runs.map((e) => e.slice(1).join(' '))).toEqual(['start', 'start', 'code wrong-code-42', 'start', `code ${GOOD_CODE}`])
    expect(runs[3][0]).toBe(runs[4][0]) // typed into the flow that was waiting

    // The daemon's next tasks use the new token: the server can respawn the work now.
    const task3 = randomUUID()
    server.send({type: 'spawnTask', taskId: task3, taskName: 'three', plan: 'third plan', repoUrl: repo.dir})
    const done3 = await server.waitFor((m) => m.type === 'taskComplete' && m.taskId === task3, 'taskComplete of task 3')
    expect(done3, JSON.stringify(done3)).toMatchObject({success: true})
    expect(api.requests.some((r) => String(r.headers.authorization).startsWith('Bearer sk-ant-oat01-EXPIRED'))).toBe(true)
    expect(server.received.filter((m) => m.type === 'authenticationRequired')).toHaveLength(3)
    // Saved in MAKIMA_HOME (0600) for the next start of the daemon, where the expired token from
    // its environment no longer wins over it.
    const saved = join(t.makimaHome, 'claude-oauth-token.json')
    expect(statSync(saved).mode & 0o777).toBe(0o600)
    expect(JSON.parse(readFileSync(saved, 'utf8')).token).toMatch(/^sk-ant-oat01-FAKEFAKEFAKE-\d+$/)

    daemon.kill('SIGTERM')
    const exit = await daemon.wait()
    const log = `${exit.stdout}\n${exit.stderr}`
    expect(log).toContain('Claude Code login succeeded')
    // Neither the codes nor the token in the log or in anything sent to the server (the server key
    // only in `authenticate`, never in the log).
    const sent = JSON.stringify(server.received.filter((m) => m.type !== 'authenticate'))
    for (const secret of [GOOD_CODE, 'wrong-code-42', 'sk-ant-oat01-FAKE', apiKey]) {
      expect(log).not.toContain(secret)
      expect(sent).not.toContain(secret)
    }
    expect(log).toContain('setup-token: Paste code here if prompted > [code]')
  })
})
