// `makima daemon --metrics-port` (issue 21): /healthz, /readyz and Prometheus /metrics from a real
// daemon against a test server, with the real claude and the scripted API. The numbers move as
// tasks run and end; readiness follows the server connection and the drain; health follows the
// database (held locked by another process past the budget); bad requests get 4xx and change nothing.
import {request} from 'node:http'
import {connect} from 'node:net'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {daemonWorld, useDaemonCleanup, type DaemonWorld} from '../support/daemon-world.js'
import {holdWriteLock} from '../support/db-lock.js'
import {waitFor} from '../support/processes.js'
import {byPrompt, startScriptedApi, steps} from '../support/scripted-api.js'
import {gate} from '../support/task-helpers.js'

useDaemonCleanup()

const release = gate()
const never = gate()

async function get(url: string, method = 'GET'): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    const req = request(url, {method}, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({status: res.statusCode ?? 0, body}))
    })
    req.on('error', reject)
    req.end()
  })
}

/** the value of one sample (`name{labels} value`) of a Prometheus text page */
function sample(page: string, name: string, labels = ''): number | undefined {
  const line = page.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `))
  return line === undefined ? undefined : Number(line.split(' ').at(-1))
}

async function startWithMetrics(w: DaemonWorld): Promise<string> {
  const daemon = await w.startDaemon(['--metrics-port', '0'])
  const match = await waitFor(() => /health and metrics on (http:\/\/127\.0\.0\.1:\d+)/.exec(daemon.stderr), {timeoutMs: 10_000, description: 'the metrics URL in the log'})
  return match[1]
}

describe('daemon --metrics-port', () => {
  test('/metrics follows a task from start to end; /readyz follows the connection and the drain', async () => {
    const api = await startScriptedApi(
      byPrompt({
        'hold on a moment': steps({bash: 'echo working'}, async () => {
          await release.opened
          return {text: 'held task done'}
        }),
        'hold on forever': steps({bash: 'echo working forever'}, async () => {
          await never.opened
          return {text: 'never'}
        }),
      }),
    )
    const w = await daemonWorld(api)
    const base = await startWithMetrics(w)
    expect(await get(`${base}/healthz`)).toMatchObject({status: 200})
    expect(await get(`${base}/readyz`)).toEqual({status: 200, body: 'ready\n'})
    const before = (await get(`${base}/metrics`)).body
    expect(sample(before, 'makima_tasks', 'state="running"')).toBe(0)
    expect(sample(before, 'makima_slots_max')).toBe(10)
    expect(sample(before, 'makima_connection_state', 'state="connected"')).toBe(1)
    expect(sample(before, 'process_resident_memory_bytes')).toBeGreaterThan(0)

    const id = w.spawnTask('hold on a moment')
    await w.server.waitForMessage((m) => m.type === 'taskOutput' && m.taskId === id && m.output.includes('working'), 60_000)
    const running = (await get(`${base}/metrics`)).body
    expect(sample(running, 'makima_tasks', 'state="running"')).toBe(1)
    expect(sample(running, 'makima_slots_used')).toBe(1)
    expect(sample(running, 'makima_tasks_started_total')).toBe(1)
    expect(running).not.toContain(id) // no task id labels, no plans
    expect(running).not.toContain('hold on')
    release.open()
    await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === id, 60_000)
    await waitFor(async () => sample((await get(`${base}/metrics`)).body, 'makima_outbox_messages') === 0, {timeoutMs: 10_000, description: 'every message acked'})
    const after = (await get(`${base}/metrics`)).body
    expect(sample(after, 'makima_tasks', 'state="running"')).toBe(0)
    expect(sample(after, 'makima_tasks', 'state="completed"')).toBe(1)
    expect(sample(after, 'makima_tasks_completed_total')).toBe(1)
    expect(sample(after, 'makima_task_duration_seconds_count', 'outcome="completed"')).toBe(1)
    expect(sample(after, 'makima_messages_sent')).toBeGreaterThan(4)
    expect(sample(after, 'makima_messages_acked')).toBe(sample(after, 'makima_messages_sent'))
    expect(sample(after, 'makima_tokens', 'contract="none",kind="output"')).toBeGreaterThan(0) // the scripted API's usage
    expect(sample(after, 'makima_cost_usd', 'contract="none"')).toBeGreaterThanOrEqual(0)
    // the same numbers without Prometheus
    const status = await w.json(['daemon', 'status'])
    expect(status.tasksByState).toMatchObject({running: 0, completed: 1})
    expect(status.slots).toEqual({used: 0, max: 10})
    const doctor = JSON.parse((await w.makima(['doctor', '--json'])).stdout)
    const line = doctor.find((c: {check: string}) => c.check === 'daemon')
    expect(line).toMatchObject({status: 'ok'})
    expect(line.detail).toMatch(/^running \(pid \d+\), connected; 0 active server task\(s\), slots 0\/10; outbox empty$/)

    // the server goes away: not ready (the pod stays alive); back: ready again
    await w.server.close()
    await waitFor(async () => (await get(`${base}/readyz`)).status === 503, {timeoutMs: 10_000, description: '/readyz 503 without the server'})
    expect((await get(`${base}/readyz`)).body).toMatch(/^(disconnected|connecting)/)
    expect((await get(`${base}/healthz`)).status).toBe(200)
    await w.server.restart()
    await waitFor(async () => (await get(`${base}/readyz`)).status === 200, {timeoutMs: 20_000, description: '/readyz 200 once reconnected'})
    const reconnected = (await get(`${base}/metrics`)).body
    expect(sample(reconnected, 'makima_connection_reconnects')).toBe(1)

    // draining: not ready
    const held = w.spawnTask('hold on forever')
    await w.server.waitForMessage((m) => m.type === 'taskOutput' && m.taskId === held && m.output.includes('working forever'), 60_000)
    w.daemon!.kill('SIGTERM')
    await waitFor(
      async () => {
        const r = await get(`${base}/readyz`).catch(() => undefined)
        return r?.status === 503 && r.body.startsWith('draining')
      },
      {timeoutMs: 10_000, description: '/readyz says draining'},
    )
    await w.daemon!.wait()
  })

  test('/healthz fails while another process holds the database locked past the budget, and recovers; bad requests get 4xx', async () => {
    const api = await startScriptedApi(steps({text: 'unused'}))
    const w = await daemonWorld(api, {extra: {MAKIMA_DAEMON_DAEMON_HEALTHDBBUDGETSECS: '1'}})
    const base = await startWithMetrics(w)
    expect((await get(`${base}/healthz`)).status).toBe(200)
    const lock = await holdWriteLock(join(w.t.makimaHome, 'makima.db'), 4000)
    await waitFor(async () => (await get(`${base}/healthz`)).status === 503, {timeoutMs: 10_000, description: '/healthz 503 under the lock'})
    expect((await get(`${base}/healthz`)).body).toMatch(/^database: no write accepted for \d+s \(budget 1s\)/)
    await lock.released
    await waitFor(async () => (await get(`${base}/healthz`)).status === 200, {timeoutMs: 10_000, description: '/healthz 200 after the lock'})

    expect((await get(`${base}/nope`)).status).toBe(404)
    expect((await get(`${base}/metrics/../../etc/passwd`)).status).toBe(404)
    expect((await get(`${base}/metrics`, 'POST')).status).toBe(405)
    const raw = (text: string) =>
      new Promise<string>((resolve) => {
        const {port} = new URL(base)
        const socket = connect(Number(port), '127.0.0.1', () => socket.end(text))
        let out = ''
        socket.on('data', (d) => (out += d.toString()))
        socket.on('close', () => resolve(out))
        socket.on('error', () => resolve(out))
      })
    expect(await raw('NOT A REQUEST\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/)
    expect(await raw(`GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431/)
    expect((await get(`${base}/healthz`)).status).toBe(200) // still serving
    expect(w.server.authenticated).toBe(true)
    await w.stopDaemon()
  })
})
