import {describe, expect, it} from 'vitest'
import {WebSocketServer} from 'ws'

import {runCli, useCleanup} from '../support/cli.js'
import {testEnv} from '../support/env.js'

useCleanup()

interface Check {
  check: string
  status: 'ok' | 'warn' | 'fail'
  detail: string
  fix?: string
}

/** A server that accepts exactly one API key (the real ws package on loopback). */
async function authServer(key: string): Promise<{url: string; close: () => Promise<void>}> {
  const wss = new WebSocketServer({host: '127.0.0.1', port: 0, path: '/ws/daemon'})
  await new Promise((resolve) => wss.once('listening', resolve))
  wss.on('connection', (ws) =>
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString())
      if (msg.type !== 'authenticate') return
      ws.send(JSON.stringify(msg.apiKey === key ? {type: 'authenticated', daemonId: '11111111-1111-4111-8111-111111111111'} : {type: 'error', code: 'AUTH_FAILED', message: 'unknown key'}))
    }),
  )
  const {port} = wss.address() as {port: number}
  return {url: `ws://127.0.0.1:${port}`, close: () => new Promise((resolve) => wss.close(() => resolve()))}
}

const byName = (checks: Check[]) => Object.fromEntries(checks.map((c) => [c.check, c]))

describe('makima doctor', () => {
  it('passes on a working machine and checks the API key with a real handshake', async () => {
    const server = await authServer('good-key-123')
    const t = testEnv({extra: {MAKIMA_DAEMON_SERVER_URL: server.url, MAKIMA_DAEMON_SERVER_APIKEY: 'good-key-123'}})
    const r = await runCli(['doctor', '--json'], {env: t.env})
    const checks = byName(JSON.parse(r.stdout))
    expect(r.code).toBe(0)
    // Node 20 works but is end of life (a warning); 22, 24 and 26 are supported.
    expect(checks.node.status).toBe(Number(process.versions.node.split('.')[0]) >= 22 ? 'ok' : 'warn')
    if (checks.node.status === 'warn') expect(checks.node.detail).toContain('reached end of life in April 2026; makima supports 22, 24 and 26')
    expect(checks.git.status).toBe('ok')
    expect(checks.claude).toMatchObject({status: 'ok', detail: expect.stringContaining('2.1.197')})
    expect(checks.auth).toMatchObject({status: 'ok', detail: expect.stringContaining('api_key (ANTHROPIC_API_KEY)')})
    expect(checks.database).toMatchObject({status: 'ok', detail: expect.stringContaining('schema')})
    expect(checks.home.status).toBe('ok')
    expect(checks.server).toMatchObject({status: 'ok', detail: expect.stringContaining('accepted')})
    expect(r.stdout).not.toContain('good-key-123')
    await server.close()
  })

  it('fails when Claude Code is not logged in, saying how to log in', async () => {
    const t = testEnv({extra: {ANTHROPIC_API_KEY: undefined}})
    const r = await runCli(['doctor'], {env: t.env})
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/FAIL\s+auth\s+Claude Code is not logged in/)
    expect(r.stdout).toMatch(/fix: makima auth login/)
    expect(r.stdout).toMatch(/ok\s+claude\s+2\.1\.197/)
  })

  it('fails (exit 1) with how to fix it: refused key, missing claude', async () => {
    const server = await authServer('good-key-123')
    const t = testEnv({extra: {MAKIMA_DAEMON_SERVER_URL: server.url, MAKIMA_DAEMON_SERVER_APIKEY: 'wrong-key-456', MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: '/nonexistent/claude'}})
    const r = await runCli(['doctor'], {env: t.env})
    expect(r.code).toBe(1)
    expect(r.stdout).toMatch(/FAIL\s+server\s+.*AUTH_FAILED/)
    expect(r.stdout).toMatch(/FAIL\s+claude\s+.*\/nonexistent\/claude/)
    expect(r.stdout).toMatch(/fix: .*process\.claudeCommand/)
    expect(r.stdout + r.stderr).not.toContain('wrong-key-456')
    await server.close()
  })

  it('gives up on an unreachable server quickly instead of hanging', async () => {
    // 10.255.255.1 would be a real network; a closed loopback port answers at once, and a
    // listening socket that never completes the WebSocket upgrade exercises the 3 s timeout.
    const net = await import('node:net')
    const silent = net.createServer(() => undefined)
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()))
    const {port} = silent.address() as {port: number}
    const t = testEnv({extra: {MAKIMA_DAEMON_SERVER_URL: `ws://127.0.0.1:${port}`, MAKIMA_DAEMON_SERVER_APIKEY: 'k-123456'}})
    const started = Date.now()
    const r = await runCli(['doctor', '--json'], {env: t.env})
    const elapsed = Date.now() - started
    const checks = byName(JSON.parse(r.stdout))
    expect(r.code).toBe(1)
    expect(checks.server).toMatchObject({status: 'fail', detail: expect.stringMatching(/3 s|timeout|timed out/i)})
    expect(elapsed).toBeLessThan(15_000)
    silent.close()
  })
})
