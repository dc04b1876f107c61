#!/usr/bin/env node
// Daemon figures of issue 5 (docs/protocol.md "Delivery", design.md "Processes"), measured on the
// built code (`npm run build` first):
//
//   outbox-throughput  messages/s stored in the durable outbox, sent over loopback WebSocket and
//                      acknowledged by a server in another process (the outbox empty again), with
//                      the daemon's own OutboxWriter and DaemonConnection; target >= 20,000/s
//   recovery-startup   `makima daemon` started on a MAKIMA_HOME holding 50 orphaned daemon tasks
//                      (active in the store, runner gone, real git worktrees), from the spawn until
//                      the server has every taskRecoveryDetected; target < 1 s
//
// Each figure is {id, title, unit, target: {op: '>=' | '<', value}, measure(ctx) -> {value, detail}}
// with ctx = {root, scratch, quick}. bench/run.js puts them in its one table; this file also runs
// them by itself:
//
//   node bench/daemon-figures.js [--quick] [--json]
import {execFileSync, spawn} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, rmSync} from 'node:fs'
import {cpus, loadavg, tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/**
 * A fake makima server in a child process (so its work does not share the daemon's event loop):
 * authenticates, acknowledges every seq as it arrives, and reports on stdout as JSON lines:
 * {port}, then {count, at} each time `every` more seq'd messages (or `recoveries` recovery
 * reports) have arrived. With `commandsFile` (a JSON array of commands, live-figures.js) it sends
 * those commands after the first authentication and reports each {status, taskId, at}
 * (taskStatusChange) and {commandError}.
 */
const SERVER_SOURCE = `
import {WebSocketServer} from 'ws'
const every = Number(process.argv[1] ?? 1000)
const recoveries = Number(process.argv[2] ?? 0)
const commands = process.argv[3] ? JSON.parse((await import('node:fs')).readFileSync(process.argv[3], 'utf8')) : []
const wss = new WebSocketServer({host: '127.0.0.1', port: 0, path: '/ws/daemon', maxPayload: 256 * 1024 * 1024})
let count = 0
let recovered = 0
wss.on('connection', (ws) => {
  recovered = 0 // counted per daemon connection
  ws.on('message', (data) => {
    const text = data.toString()
    const msg = JSON.parse(text)
    if (msg.type === 'authenticate') {
      ws.send(JSON.stringify({type: 'authenticated', daemonId: '00000000-0000-4000-8000-000000000000'}))
      for (const command of commands.splice(0)) ws.send(JSON.stringify(command))
      return
    }
    if (msg.type === 'taskStatusChange') process.stdout.write(JSON.stringify({status: msg.newStatus, taskId: msg.taskId, at: Date.now()}) + '\\n')
    if (msg.type === 'commandError') process.stdout.write(JSON.stringify({commandError: msg}) + '\\n')
    if (typeof msg.seq !== 'number') return
    ws.send('{"type":"ack","seq":' + msg.seq + '}')
    count += 1
    if (msg.type === 'taskRecoveryDetected' && ++recovered === recoveries) process.stdout.write(JSON.stringify({recovered, at: Date.now()}) + '\\n')
    if (every > 0 && count % every === 0) process.stdout.write(JSON.stringify({count, at: Date.now()}) + '\\n')
  })
})
wss.on('listening', () => process.stdout.write(JSON.stringify({port: wss.address().port}) + '\\n'))
`

/** Starts the fake server; resolves with its port and a way to await report lines. */
export async function startServer(every, recoveries = 0, commandsFile = '') {
  const child = spawn(process.execPath, ['--input-type=module', '-e', SERVER_SOURCE, String(every), String(recoveries), commandsFile], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const listeners = new Set()
  let buffer = ''
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk) => {
    buffer += chunk
    let nl
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = JSON.parse(buffer.slice(0, nl))
      buffer = buffer.slice(nl + 1)
      for (const l of [...listeners]) l(line)
    }
  })
  const on = (listener) => listeners.add(listener)
  const next = (predicate, timeoutMs = 60_000) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(on)
        reject(new Error('bench server: timed out'))
      }, timeoutMs)
      const on = (line) => {
        if (!predicate(line)) return
        clearTimeout(timer)
        listeners.delete(on)
        resolve(line)
      }
      listeners.add(on)
    })
  const {port} = await next((l) => l.port !== undefined, 10_000)
  return {port, url: `ws://127.0.0.1:${port}`, next, on, stop: () => child.kill('SIGKILL')}
}

const dist = (...parts) => pathToFileURL(path.join(ROOT, 'dist', 'lib', ...parts)).href

/** A stream-json line of realistic size (an assistant text block, ~400 bytes). */
function outputLine(i) {
  const text = `step ${i}: ${'the quick brown fox jumps over the lazy dog '.repeat(6)}`
  return JSON.stringify({type: 'assistant', message: {id: `msg_${i}`, role: 'assistant', content: [{type: 'text', text}]}, session_id: '4d6f2b0e-3f7e-41e8-a0d6-feb09cb3eef6'})
}

async function outboxThroughput({scratch, quick}) {
  const {Store} = await import(dist('store', 'store.js'))
  const {DaemonConnection} = await import(dist('daemon', 'connection.js'))
  const {OutboxWriter} = await import(dist('daemon', 'event-sink.js'))
  const total = quick ? 20_000 : 100_000
  const server = await startServer(total)
  const dir = mkdtempSync(path.join(scratch, 'outbox-'))
  const store = Store.open(path.join(dir, 'makima.db'))
  const log = () => {}
  const connection = new DaemonConnection({
    url: server.url,
    apiKey: 'bench-key',
    hostname: 'bench',
    version: '0.0.0',
    maxConcurrentTasks: 10,
    heartbeatIntervalSecs: 30,
    reconnectIntervalSecs: 1,
    outbox: store.outbox,
    activeTaskIds: () => [],
    getDaemonId: () => undefined,
    setDaemonId: () => {},
    log,
  })
  const writer = new OutboxWriter(
    store.outbox,
    {maxMessages: 1_000_000, maxBytes: 1024 * 1024 * 1024},
    (messages) => connection.offer(messages),
    log,
    () => true,
    () => false,
  )
  try {
    await new Promise((resolve) => {
      connection.once('authenticated', resolve)
      connection.start()
    })
    const taskId = randomUUID()
    const lines = Array.from({length: 1000}, (_, i) => outputLine(i))
    const allReceived = server.next((l) => l.count === total, 120_000)
    const start = Date.now()
    // produced as a busy task does: bursts of lines, the event loop free in between
    for (let i = 0; i < total; i++) {
      writer.onEvent({type: 'output', taskId, stream: 'stdout', line: lines[i % lines.length]})
      if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve))
    }
    writer.flush()
    await allReceived
    // ...and acknowledged: the outbox is empty again
    while (store.outbox.depth.messages > 0) {
      if (Date.now() - start > 120_000) throw new Error(`outbox still holds ${store.outbox.depth.messages} messages`)
      await new Promise((resolve) => setTimeout(resolve, 2))
    }
    const seconds = (Date.now() - start) / 1000
    return {value: Math.round(total / seconds), detail: `${total.toLocaleString('en')} taskOutput messages of ~${lines[0].length} bytes in ${seconds.toFixed(2)} s, every one acked`}
  } finally {
    await connection.stop().catch(() => {})
    store.close()
    server.stop()
  }
}

/** A pid that is certainly not running: a child that has exited. */
function deadPid() {
  const child = spawn(process.execPath, ['-e', '0'])
  return new Promise((resolve) => child.on('exit', () => resolve(child.pid)))
}

async function recoveryStartup({scratch, quick}) {
  const [{Store}, {newTaskRecord}] = await Promise.all([import(dist('store', 'store.js')), import(dist('store', 'task-record.js'))])
  const orphans = 50
  const runs = quick ? 3 : 7
  const dir = mkdtempSync(path.join(scratch, 'recovery-'))
  const repo = path.join(dir, 'repo')
  const env = {
    ...process.env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'bench',
    GIT_AUTHOR_EMAIL: 'bench@makima.invalid',
    GIT_COMMITTER_NAME: 'bench',
    GIT_COMMITTER_EMAIL: 'bench@makima.invalid',
  }
  const git = (...args) =>
    execFileSync('git', args, {cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe']})
      .toString()
      .trim()
  mkdirSync(repo)
  git('init', '-q', '-b', 'main')
  git('commit', '-q', '--allow-empty', '-m', 'initial')
  const head = git('rev-parse', 'HEAD')
  const worktrees = []
  for (let i = 0; i < orphans; i++) {
    const wt = path.join(dir, 'worktrees', `wt-${i}`)
    git('worktree', 'add', '-q', '-b', `makima/bench-${i}`, wt, 'main')
    worktrees.push(wt)
  }
  const gone = await deadPid()
  const server = await startServer(0, orphans)
  const times = []
  try {
    for (let run = 0; run < runs; run++) {
      const home = path.join(dir, `home-${run}`)
      mkdirSync(home)
      const store = Store.open(path.join(home, 'makima.db'))
      const now = new Date().toISOString()
      store.db.transaction(() => {
        worktrees.forEach((wt, i) => {
          const id = randomUUID()
          store.tasks.insert(
            newTaskRecord({
              id,
              name: `orphan ${i}`,
              state: i % 5 === 0 ? 'paused' : 'running',
              plan: 'bench orphan',
              origin: 'daemon',
              repoSource: repo,
              repoPath: repo,
              baseBranch: 'main',
              branch: `makima/bench-${i}`,
              worktreePath: wt,
              baseSha: head,
              pid: gone,
              runnerPid: gone,
              sessionId: randomUUID(),
              startedAt: now,
            }),
          )
        })
      })()
      store.close()
      const daemonEnv = {...env, MAKIMA_HOME: home, HOME: dir, MAKIMA_DAEMON_SERVER_APIKEY: 'bench-key'}
      for (const name of ['NODE_OPTIONS', 'MAKIMA_DAEMON_SERVER_URL']) delete daemonEnv[name]
      const done = server.next((l) => l.recovered === orphans, 30_000)
      const start = Date.now()
      const daemon = spawn(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'daemon', '--server-url', server.url], {env: daemonEnv, stdio: ['ignore', 'ignore', 'pipe']})
      let stderr = ''
      daemon.stderr.on('data', (d) => (stderr += d))
      try {
        const {at} = await done
        times.push(at - start)
      } catch (error) {
        throw new Error(`${error.message}; daemon log:\n${stderr}`)
      } finally {
        daemon.kill('SIGTERM')
        await new Promise((resolve) => daemon.on('exit', resolve))
      }
    }
  } finally {
    server.stop()
  }
  const sorted = [...times].sort((a, b) => a - b)
  const median = sorted[Math.floor(sorted.length / 2)]
  return {value: median / 1000, detail: `median of ${runs} starts (${sorted.map((t) => `${t}`).join(', ')} ms), spawn of \`makima daemon\` to the ${orphans}th report at the server`}
}

export const DAEMON_FIGURES = [
  {id: 'outbox-throughput', title: 'daemon outbox: stored, sent and acked over loopback', unit: 'msgs/s', target: {op: '>=', value: 20_000}, measure: outboxThroughput},
  {id: 'recovery-startup', title: 'makima daemon start with 50 orphaned tasks, until every taskRecoveryDetected', unit: 's', target: {op: '<', value: 1}, measure: recoveryStartup},
]

export function meetsTarget(figure, value) {
  return figure.target.op === '>=' ? value >= figure.target.value : value < figure.target.value
}

async function main() {
  const args = process.argv.slice(2)
  const quick = args.includes('--quick')
  const json = args.includes('--json')
  if (!existsSync(path.join(ROOT, 'dist', 'lib', 'daemon', 'connection.js'))) {
    process.stderr.write('bench: no build found; run `npm run build` first\n')
    process.exit(1)
  }
  const scratch = mkdtempSync(path.join(tmpdir(), 'makima-bench-daemon-'))
  const rows = []
  try {
    for (const figure of DAEMON_FIGURES) {
      if (!json) process.stderr.write(`bench: ${figure.title}...\n`)
      const {value, detail} = await figure.measure({root: ROOT, scratch, quick})
      rows.push({id: figure.id, figure: figure.title, value, unit: figure.unit, target: `${figure.target.op} ${figure.target.value}`, ok: meetsTarget(figure, value), detail})
    }
  } finally {
    rmSync(scratch, {recursive: true, force: true})
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
    return
  }
  for (const r of rows) {
    const value = r.unit === 's' ? r.value.toFixed(3) : r.value.toLocaleString('en')
    process.stdout.write(`${r.figure}: ${value} ${r.unit} (target ${r.target} ${r.unit}) ${r.ok ? 'ok' : 'MISSED'}\n  ${r.detail}\n`)
  }
  process.stdout.write(`\nnode ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)} at the end\n`)
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    process.stderr.write(`bench: ${error.stack ?? error}\n`)
    process.exit(1)
  })
}
