// The daemon's session with a fake server (docs/protocol.md "Handshake", "Liveness"): the
// authenticate fields, the daemonId persisted across restarts, AUTH_FAILED (logged, not retried
// quickly), reconnect after the server went away, and `makima daemon status --json`.
import {hostname} from 'node:os'
import {describe, expect, test} from 'vitest'

import {daemonWorld, sleep, useDaemonCleanup} from '../support/daemon-world.js'
import {startScriptedApi, steps} from '../support/scripted-api.js'

useDaemonCleanup()

describe('handshake', () => {
  test('authenticate carries every field; the daemonId is persisted and sent on the next start', async () => {
    const api = await startScriptedApi(steps({text: 'unused'}))
    const w = await daemonWorld(api)
    const daemon = await w.startDaemon(['--max-concurrent-tasks', '3'])
    const [auth] = w.server.messagesOfType('authenticate')
    expect(w.server.paths[0]).toBe('/ws/daemon')
    expect(auth).toEqual({
      type: 'authenticate',
      apiKey: w.apiKey,
      hostname: hostname(),
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      maxConcurrentTasks: 3,
      activeTaskIds: [],
      lastAckedSeq: null,
    })
    expect(auth.daemonId).toBeUndefined()
    // nothing but authenticate before authenticated: the first message on the connection
    expect(w.server.messages[0].msg.type).toBe('authenticate')

    const status = await w.json(['daemon', 'status'])
    expect(status).toMatchObject({running: true, pid: daemon.pid, connection: 'connected', daemonId: w.server.daemonId})

    // one daemon per MAKIMA_HOME: a second one (sharing the outbox and the daemon id) is refused
    const rival = await w.makima(['daemon', '--server-url', w.server.url])
    expect(rival.code, rival.stderr).toBe(4)
    expect(rival.stderr).toMatch(new RegExp(`^Error: another makima daemon \\(pid ${daemon.pid}\\) is running`, 'm'))
    expect(w.server.messagesOfType('authenticate')).toHaveLength(1)
    expect(status.outbox).toMatchObject({messages: expect.any(Number), bytes: expect.any(Number)})

    await w.stopDaemon()
    expect(daemon.exit?.code, daemon.stderr).toBe(0)
    const stopped = await w.json(['daemon', 'status'])
    expect(stopped).toMatchObject({running: false, connection: 'not running', daemonId: w.server.daemonId})

    await w.startDaemon()
    const second = w.server.messagesOfType('authenticate')[1]
    expect(second.daemonId).toBe(w.server.daemonId)
    expect(second.apiKey).toBe(w.apiKey)
  })

  test('AUTH_FAILED: the reason is logged and the daemon does not retry quickly', async () => {
    const api = await startScriptedApi(steps({text: 'unused'}))
    const w = await daemonWorld(api, {server: {authFail: true}})
    const daemon = await w.startDaemon([], {waitForAuth: false})
    await daemon.waitForOutput(/invalid API key/, 20_000, 'stderr')
    const refusedAt = Date.now()
    const line = daemon.stderr.split('\n').find((l) => l.includes('invalid API key'))!
    expect(JSON.parse(line)).toMatchObject({level: 'error'})
    // with reconnectIntervalSecs 0.2 a normal disconnect is retried within 0.25 s: a duration is
    // the point here ("not quickly"), 12 times that without a second authenticate
    await sleep(3000)
    expect(w.server.messagesOfType('authenticate')).toHaveLength(1)
    expect(w.server.connections).toBe(1)
    expect(daemon.exit).toBeUndefined()
    expect(daemon.stderr).not.toContain(w.apiKey)
    expect(daemon.stderr).toMatch(/reconnecting in (4[5-9]|[5-7]\d)\.\ds/) // the maximum backoff, 60 s with jitter
    const status = await w.json(['daemon', 'status'])
    expect(status).toMatchObject({running: true, connection: 'waiting', daemonId: null})
    expect(Date.now() - refusedAt).toBeGreaterThan(3000)
    await w.stopDaemon()
    expect(daemon.exit?.code).toBe(0)
  })

  test('a server that never answers authenticate, or stops answering pings, is left and connected to again', async () => {
    const api = await startScriptedApi(steps({text: 'unused'}))
    const w = await daemonWorld(api, {server: {authSilent: true}, extra: {MAKIMA_DAEMON_SERVER_HEARTBEATINTERVALSECS: '0.5'}})
    const daemon = await w.startDaemon([], {waitForAuth: false})
    // dead after two heartbeat intervals (+1 s): 2 s here
    await w.server.waitForMessage(() => w.server.messagesOfType('authenticate').length >= 2, 8000, 'a second authenticate')
    expect(daemon.stderr).toMatch(/no answer to authenticate within 2\.0s/)
    expect(w.server.connections).toBeGreaterThanOrEqual(2)

    w.server.authSilent = false
    await w.server.waitForMessage(() => w.server.authenticated, 15_000, 'authenticated at last')
    const connections = w.server.connections
    w.server.freeze() // no pong from now on
    const frozenAt = Date.now()
    await w.server.waitForMessage(() => w.server.connections > connections && w.server.authenticated, 10_000, 'a new connection after the pongs stopped')
    expect(Date.now() - frozenAt).toBeGreaterThan(1500)
    expect(daemon.stderr).toContain('no pong for two heartbeat intervals')
    expect(daemon.exit).toBeUndefined()
    await w.stopDaemon()
  })
})
