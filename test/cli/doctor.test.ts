// makima doctor through the built CLI, with the real Claude Code devDependencies (both tested
// versions). The claude check's old, newer and broken versions use tiny fake `claude` scripts that
// only answer `--version` (no real release is that old or that new offline); each says so in its
// own first lines.
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {WebSocketServer} from 'ws'

import {TESTED_CLAUDE} from '../../src/lib/claude/tested-versions.js'
import {runCli, useCleanup} from '../support/cli.js'
import {CLAUDE_VERSIONS, testEnv, type TestEnv} from '../support/env.js'

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
    expect(checks.claude).toMatchObject({status: 'ok', detail: expect.stringContaining(TESTED_CLAUDE.newest)})
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
    expect(r.stdout).toMatch(/ok\s+claude\s+2\.1\.332/)
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

/** A fake `claude` that only prints a version (or fails): what doctor's claude check reads. */
function fakeClaude(t: TestEnv, body: string): string {
  const file = join(t.root, 'fake-claude')
  writeFileSync(file, `#!/bin/sh\n# A FAKE claude for doctor's version check only: no real release prints this offline.\n${body}\n`, {mode: 0o755})
  return file
}

async function claudeCheck(t: TestEnv): Promise<Check> {
  const r = await runCli(['doctor', '--json'], {env: t.env})
  return byName(JSON.parse(r.stdout)).claude
}

describe('makima doctor: the Claude Code version', () => {
  it.each(CLAUDE_VERSIONS)('Claude Code $label (a real devDependency) is ok and within the tested range', async ({label, bin}) => {
    const t = testEnv({extra: {MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: bin}})
    const check = await claudeCheck(t)
    expect(check).toMatchObject({status: 'ok', detail: `${label} (Claude Code) (${bin}); tested: ${TESTED_CLAUDE.oldest} to ${TESTED_CLAUDE.newest}`})
  })

  it('warns when the claude on PATH is older than the oldest tested, saying how to update', async () => {
    const t = testEnv()
    const fake = fakeClaude(t, 'echo "1.0.0 (Claude Code)"')
    t.env.MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND = fake
    const check = await claudeCheck(t)
    expect(check.status).toBe('warn')
    expect(check.detail).toBe(`1.0.0 (Claude Code) (${fake}) is older than the oldest Claude Code makima is tested with, 2.1.197: what makima reads of its output may differ`)
    expect(check.fix).toBe(`npm install -g @anthropic-ai/claude-code@${TESTED_CLAUDE.newest} (or newer)`)
    const text = await runCli(['doctor'], {env: t.env})
    expect(text.stdout).toMatch(/^warn {2}claude {4}1\.0\.0 \(Claude Code\)/m)
  })

  it('a version newer than tested is ok, and says so', async () => {
    const t = testEnv()
    t.env.MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND = fakeClaude(t, 'echo "2.10.0 (Claude Code)"')
    const check = await claudeCheck(t)
    expect(check).toMatchObject({status: 'ok', detail: expect.stringMatching(/^2\.10\.0 \(Claude Code\) .*; newer than the newest tested, 2\.1\.332$/)})
  })

  it('fails when the configured claude cannot run, naming the command and how to install', async () => {
    const t = testEnv()
    const fake = fakeClaude(t, 'echo "error: broken install" >&2; exit 3')
    t.env.MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND = fake
    const check = await claudeCheck(t)
    expect(check.status).toBe('fail')
    expect(check.detail).toBe(`Claude Code (process.claudeCommand "${fake}" = ${fake}) cannot be run: \`${fake} --version\` exited with 3: error: broken install`)
    expect(check.fix).toContain('npm install -g @anthropic-ai/claude-code')
  })
})
