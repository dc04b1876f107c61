// The daemon during a rate limit (issue 19 §3; docs/protocol.md "Rate limits"): a task of the
// same MAKIMA_HOME meets a usage limit of the REAL claude (an OAuth login against the scripted
// API, reset a minute ahead), and the daemon then answers spawnTask CONCURRENCY_LIMIT with
// retryAfter, records nothing for it, and shows the hold in `daemon status` and /metrics.
import {randomUUID} from 'node:crypto'
import {request} from 'node:http'
import {describe, expect, test} from 'vitest'

import {daemonWorld, useDaemonCleanup} from '../support/daemon-world.js'
import {waitFor} from '../support/processes.js'
import {byPrompt, rateLimitHeaders, startScriptedApi} from '../support/scripted-api.js'

useDaemonCleanup()

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve(body))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('the daemon during a rate limit', () => {
  test('spawnTask is answered CONCURRENCY_LIMIT with retryAfter until the reset; daemon status and /metrics show the hold', async () => {
    let resetSecs: number | null = null
    const api = await startScriptedApi(
      byPrompt({
        'limited task': () => {
          resetSecs ??= Math.ceil(Date.now() / 1000) + 60
          return {headers: rateLimitHeaders({status: 'rejected', resetsAt: resetSecs, claim: 'five_hour'}), then: {status: 429, error: 'rate limited'}}
        },
      }),
    )
    const w = await daemonWorld(api, {extra: {ANTHROPIC_API_KEY: undefined, CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-ratelimit-test'}})
    const daemon = await w.startDaemon(['--metrics-port', '0'])
    const base = (await waitFor(() => /health and metrics on (http:\/\/127\.0\.0\.1:\d+)/.exec(daemon.stderr), {timeoutMs: 10_000, description: 'the metrics URL'}))[1]
    const metric = async () => Number(/^makima_rate_limited_until_seconds (\S+)$/m.exec(await get(`${base}/metrics`))?.[1])
    expect(await metric()).toBe(0)

    const cli = await w.makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'limited task'])
    expect(cli.code, cli.stderr).toBe(1)
    expect(JSON.parse(cli.stdout)).toMatchObject({failureKind: 'usage_limit'})

    const id = randomUUID()
    const refused = await w.request({type: 'spawnTask', taskId: id, taskName: 'held', plan: 'anything', repoUrl: w.repo.dir})
    expect(refused).toMatchObject({type: 'commandError', commandType: 'spawnTask', taskId: id, code: 'CONCURRENCY_LIMIT'})
    expect(refused.message).toMatch(/^rate limited until \d\d:\d\d(:\d\d)? \(five_hour\)/)
    expect(refused.retryAfter).toBeGreaterThan(0)
    expect(refused.retryAfter).toBeLessThanOrEqual(61)
    expect(w.query('SELECT id FROM tasks WHERE id = ?', id)).toEqual([])

    expect(await metric()).toBe(resetSecs)
    const status = await w.json(['daemon', 'status'])
    expect(status.rateLimitedUntil).toBe(new Date(resetSecs! * 1000).toISOString())
  }, 120_000)
})
