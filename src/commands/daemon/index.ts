import {hostname} from 'node:os'

import {Flags} from '@oclif/core'

import {MakimaCommand} from '../../cli/base-command.js'
import {MakimaError} from '../../lib/errors.js'
import {cliEntry} from '../../lib/package-root.js'

export default class DaemonRun extends MakimaCommand {
  static override summary = 'Connect to the makima server and run the tasks it sends'
  static override description = `Keeps one WebSocket connection to server.url (protocol v1), runs spawned tasks here, and streams their output and state back through a durable outbox: nothing is lost while disconnected. SIGINT/SIGTERM drain it within daemon.drainGraceSecs: no new tasks are taken, each running task's work is snapshotted and sent to the server as a checkpoint patch (so the server can start it again on another daemon), the task is ended as interrupted, and the daemon waits for the server's acks before it exits 0; a second signal stops at once (tasks kept for recovery). Exit 42 after the server's restartDaemon command.`
  static override examples = [
    'MAKIMA_DAEMON_SERVER_APIKEY=... <%= config.bin %> daemon',
    '<%= config.bin %> daemon --server-url ws://127.0.0.1:8080 --api-key "$KEY" --max-concurrent-tasks 4 --log-json',
  ]
  static override enableJsonFlag = false
  static override flags = {
    'server-url': Flags.string({description: 'server URL (ws:// or wss://; /ws/daemon is appended when the path is empty)'}),
    'api-key': Flags.string({description: 'API key (prefer MAKIMA_DAEMON_SERVER_APIKEY or server.apiKeyFile: flags show up in ps)'}),
    'max-concurrent-tasks': Flags.integer({min: 1, description: 'concurrency cap (process.maxConcurrentTasks)'}),
    'metrics-port': Flags.integer({min: 0, max: 65535, description: 'serve /healthz, /readyz and /metrics (Prometheus) on this port, on daemon.metricsHost (127.0.0.1); 0 picks a free port'}),
    'log-json': Flags.boolean({description: 'log JSON lines (the default when stderr is not a terminal)'}),
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(DaemonRun)
    const config = this.makimaConfig({
      'server.url': flags['server-url'],
      'server.apiKey': flags['api-key'],
      'process.maxConcurrentTasks': flags['max-concurrent-tasks'],
      'daemon.metricsPort': flags['metrics-port'],
    })
    const {serverApiKey} = await import('../../lib/secrets/server-key.js')
    const server = serverApiKey(config)
    if (!server) {
      throw new MakimaError('INVALID_INPUT', 'no API key: set MAKIMA_DAEMON_SERVER_APIKEY, or `makima config set server.apiKeyFile <file holding the key>`, or pass --api-key')
    }
    const apiKey = server.key
    // Read once: the variable leaves this process's environment (what it starts never inherits it).
    delete process.env.MAKIMA_DAEMON_SERVER_APIKEY
    const {createLogger} = await import('../../lib/daemon/logger.js')
    const {Daemon} = await import('../../lib/daemon/daemon.js')
    const {SecretRedactor} = await import('../../lib/secrets/redactor.js')
    const redactor = new SecretRedactor().add(apiKey)
    const log = createLogger({json: flags['log-json'] || !process.stderr.isTTY, out: process.stderr, redactor})
    if (server.source === 'config.json') {
      log('warn', `the server API key is stored in ${server.where}, which tasks can read: move it to MAKIMA_DAEMON_SERVER_APIKEY or server.apiKeyFile, then run \`makima config unset server.apiKey\``)
    }
    // A token an earlier login saved in MAKIMA_HOME (stored-token.ts) is the one tasks use.
    const {withStoredToken} = await import('../../lib/claude/stored-token.js')
    const originalOauthToken = process.env.CLAUDE_CODE_OAUTH_TOKEN
    const token = withStoredToken(process.env, config.home).CLAUDE_CODE_OAUTH_TOKEN
    if (token) {
      redactor.add(token)
      process.env.CLAUDE_CODE_OAUTH_TOKEN = token
    }
    const daemon = new Daemon({
      config,
      apiKey,
      originalOauthToken,
      env: process.env,
      version: this.config.version,
      hostname: hostname(),
      log,
      redactor,
      runnerEntry: {execPath: process.execPath, script: cliEntry()},
    })
    const stop = (signal: NodeJS.Signals) => {
      log('info', `${signal} received`)
      void daemon.drain()
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
    log('info', `makima daemon ${this.config.version} (pid ${process.pid}) connecting to ${config.server.url}`)
    const health = config.daemon.metricsPort === undefined ? undefined : await startHealth(daemon, log)
    let code: number
    try {
      await daemon.start()
      code = await daemon.exited
    } finally {
      await health?.close()
    }
    log('info', `stopped (exit ${code})`)
    if (code !== 0) this.exit(code)
    return undefined
  }
}

/** `--metrics-port`: the daemon's /healthz, /readyz and /metrics (lib/daemon/health-server.ts). */
async function startHealth(daemon: import('../../lib/daemon/daemon.js').Daemon, log: import('../../lib/daemon/logger.js').Logger) {
  const {createMetrics} = await import('../../lib/daemon/metrics.js')
  const {startHealthServer} = await import('../../lib/daemon/health-server.js')
  const metrics = await createMetrics(daemon)
  daemon.manager.onEvent(metrics.onEvent)
  const {config} = daemon
  return startHealthServer({
    host: config.daemon.metricsHost,
    port: config.daemon.metricsPort!,
    source: daemon,
    metrics,
    healthDbBudgetSecs: config.daemon.healthDbBudgetSecs,
    log,
    onDbWrite: () => (daemon.lastDbWriteAt = Date.now()),
  })
}
