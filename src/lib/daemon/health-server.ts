import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'

import {withBusyTimeout} from '../store/busy.js'
import type {Logger} from './logger.js'
import type {DaemonMetrics, MetricsSource} from './metrics.js'

export interface HealthServerOptions {
  host: string
  port: number
  source: MetricsSource
  metrics: DaemonMetrics
  /** a database that has accepted no write for this long makes /healthz fail */
  healthDbBudgetSecs: number
  log: Logger
  /** called when the database accepted the health probe's write */
  onDbWrite: () => void
}

export interface HealthServer {
  url: string
  close(): Promise<void>
}

/** How often the health probe writes to the database (with a short busy timeout: it never waits). */
const DB_PROBE_MS = 5000

/**
 * The daemon's plain-HTTP endpoints for the kubelet and Prometheus (`makima daemon
 * --metrics-port`): GET /healthz, /readyz and /metrics; anything else is 404 (405 for another
 * method). Nothing served names a task, a plan, a path or a secret.
 *
 * /healthz answers while the event loop does and the database has taken a write within
 * daemon.healthDbBudgetSecs; the server connection plays no part (a server outage must not get
 * every pod restarted). A database write blocked on another process's lock holds this thread
 * too: the liveness probe's timeouts in deploy/k8s add up to more than the budget, so a busy
 * database slows the daemon down without getting its pod restarted.
 * /readyz is 200 when connected and authenticated and not draining, else 503 with the reason.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const {source} = options
  // one statement with a 50 ms busy timeout, not the store's retrying writes: it must never wait
  const write = source.store.db.prepare("INSERT INTO meta (key, value) VALUES ('daemon.healthProbeAt', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
  const probe = () => {
    try {
      withBusyTimeout(source.store.db, 50, () => write.run(new Date().toISOString()))
      options.onDbWrite()
    } catch {
      // busy or failing: lastDbWriteAt stays where it was; /healthz decides
    }
  }
  probe()
  // often enough that a budget set low (tests) is never missed between two probes
  const timer = setInterval(probe, Math.min(DB_PROBE_MS, (options.healthDbBudgetSecs * 1000) / 4))
  timer.unref()

  const server: Server = createServer((req, res) => {
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, {'content-type': type, 'cache-control': 'no-store'})
      res.end(body)
    }
    const url = (req.url ?? '/').split('?')[0]
    if (!['/healthz', '/readyz', '/metrics'].includes(url)) return send(404, 'not found\n')
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'only GET\n')
    if (url === '/healthz') {
      const age = (Date.now() - source.lastDbWriteAt) / 1000
      if (age > options.healthDbBudgetSecs) return send(503, `database: no write accepted for ${age.toFixed(0)}s (budget ${options.healthDbBudgetSecs}s)\n`)
      return send(200, 'ok\n')
    }
    if (url === '/readyz') {
      const reason = notReady(source)
      return reason ? send(503, `${reason}\n`) : send(200, 'ready\n')
    }
    options.metrics.registry
      .metrics()
      .then((text) => send(200, text, options.metrics.registry.contentType))
      .catch((error: Error) => send(500, `metrics failed: ${error.message}\n`))
  })
  // A slow or huge request is cut off, not held open (Node answers 431 to oversized headers).
  server.requestTimeout = 10_000
  server.headersTimeout = 5_000
  server.maxHeadersCount = 50
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => resolve())
  })
  const {port} = server.address() as AddressInfo
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  const url = `http://${host}:${port}`
  options.log('info', `health and metrics on ${url} (/healthz, /readyz, /metrics)`)
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(timer)
        server.closeAllConnections?.()
        server.close(() => resolve())
      }),
  }
}

/** Why the daemon should get no traffic now, or undefined when it is ready. */
function notReady(source: MetricsSource): string | undefined {
  if (source.draining) return 'draining: the daemon is shutting down'
  const {state, stats} = source.connection
  if (state === 'connected') return undefined
  if (stats.authFailed) return 'auth failed: the server refused the API key'
  if (state === 'waiting' && stats.retryAt) return `disconnected: reconnecting at ${new Date(stats.retryAt).toISOString()}`
  return state
}
