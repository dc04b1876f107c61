// Memory of many live tasks (issue 7):
//
//   live-tasks-100  `makima daemon` (one process hosts every task) with 100 live tasks (20 with
//                   --quick): the fake server of daemon-figures.js sends 100 spawnTask commands
//                   (process.maxConcurrentTasks raised to 100), and once all 100 are running the
//                   daemon's resident set (/proc/<pid>/status VmRSS) is sampled a few times; the
//                   largest sample counts; target < 150 MB. claude processes are not counted.
//   live-runners    (information) the sum of the resident sets of the detached runners (`task run`,
//                   one process per task) of 20 tasks started with `makima task spawn --detach`
//                   (10 with --quick); not run to 100 on a shared 2-core machine.
//
// Claude Code is a stub here: a real claude needs ~260 MB of its own, and these figures measure
// makima's processes; the stub replays a recorded stream-json file slowly until its parent is gone.
import {spawn} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {startServer} from './daemon-figures.js'
import {BIN, FIXTURES, NODE, benchWorld, makima, round, rssMb, sleep, valueRow, withStore, writeScript} from './support.js'

/** The stub: replays slow.jsonl (its `result` line left out, so the turn never ends) a line a second. */
function slowStub(dir) {
  const lines = readFileSync(path.join(FIXTURES, 'slow.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('{"type":"result"'))
  const replay = path.join(dir, 'replay.jsonl')
  writeFileSync(replay, `${lines.join('\n')}\n`)
  return writeScript(
    path.join(dir, 'claude-stub'),
    `#!/bin/bash
# STUB claude (bench/live-figures.js): these figures measure the memory of makima's own processes
# with many live tasks; one real Claude Code needs ~260 MB by itself, and 100 of them would not fit
# this figure's purpose. It replays a recorded stream-json file (slow.jsonl without its result
# line) a line a second, until the process that started it (the daemon or a runner) is gone.
parent=$PPID
while kill -0 "$parent" 2>/dev/null; do
  while IFS= read -r line; do
    echo "$line"
    sleep 1
    kill -0 "$parent" 2>/dev/null || exit 0
  done < ${JSON.stringify(replay)}
done
`,
  )
}

/** Waits (up to 5 s) until the stubs of `pids` see their parent gone and exit; kills any left. */
async function reapStubs(pids) {
  const alive = () => pids.filter((pid) => existsSync(`/proc/${pid}`))
  for (let i = 0; i < 50 && alive().length > 0; i++) await sleep(100)
  for (const pid of alive()) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // gone meanwhile
    }
  }
}

/** Samples a set of pids' summed RSS `times` times, `everyMs` apart; returns the samples in MB. */
async function sampleRss(pids, times = 5, everyMs = 500) {
  const samples = []
  for (let i = 0; i < times; i++) {
    if (i > 0) await sleep(everyMs)
    samples.push(pids.reduce((sum, pid) => sum + rssMb(pid), 0))
  }
  return samples
}

/**
 * `count` live tasks in one daemon (optionally with --metrics-port and a scrape every second):
 * seconds from the first spawnTask to all running, and the daemon's RSS samples once they are.
 */
async function runLiveDaemon(ctx, name, count, {metrics = false} = {}) {
  const world = benchWorld(ctx.scratch, name)
  const env = {
    ...world.env,
    MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: slowStub(world.dir),
    MAKIMA_DAEMON_PROCESS_MAXCONCURRENTTASKS: String(count),
    MAKIMA_DAEMON_SERVER_APIKEY: 'bench-key',
  }
  const ids = Array.from({length: count}, () => randomUUID())
  const commands = ids.map((taskId, i) => ({
    type: 'spawnTask',
    taskId,
    taskName: `live-${i + 1}`,
    plan: `bench live task ${i + 1}`,
    depth: 0,
    isOrchestrator: false,
    isSupervisor: false,
    autonomousLoop: false,
    resumeSession: false,
  }))
  const commandsFile = path.join(world.dir, 'commands.json')
  writeFileSync(commandsFile, JSON.stringify(commands))
  const server = await startServer(0, 0, commandsFile)
  const running = new Set()
  const errors = []
  server.on((line) => {
    if (line.status === 'running') running.add(line.taskId)
    if (line.commandError) errors.push(line.commandError)
  })
  const daemon = spawn(NODE, [BIN, 'daemon', '--server-url', server.url, ...(metrics ? ['--metrics-port', '0'] : [])], {env, stdio: ['ignore', 'ignore', 'pipe']})
  let log = ''
  let metricsUrl
  daemon.stderr.setEncoding('utf8').on('data', (d) => {
    log = (log + d).slice(-4000)
    metricsUrl ??= /health and metrics on (http:\/\/[^ "]+)/.exec(log)?.[1]
  })
  let scrapes = 0
  const scraper = metrics
    ? setInterval(() => {
        if (metricsUrl)
          void fetch(`${metricsUrl}/metrics`)
            .then((r) => r.text())
            .then(
              () => (scrapes += 1),
              () => {},
            )
      }, 1000)
    : undefined
  try {
    const start = Date.now()
    while (running.size < count) {
      if (errors.length > 0) throw new Error(`bench: the daemon refused a spawnTask: ${JSON.stringify(errors[0])}`)
      if (daemon.exitCode !== null) throw new Error(`bench: the daemon exited ${daemon.exitCode}: ${log}`)
      if (Date.now() - start > 180_000) throw new Error(`bench: ${running.size} of ${count} tasks running after 180 s; daemon log:\n${log}`)
      await sleep(100)
    }
    const startup = (Date.now() - start) / 1000
    await sleep(1000) // every task has printed a few lines
    const samples = await sampleRss([daemon.pid], 6, 500)
    return {startup, samples, max: Math.max(...samples), scrapes}
  } finally {
    clearInterval(scraper)
    const stubs = await withStore(world.db, (store) => ids.map((id) => store.tasks.get(id)?.pid).filter(Boolean))
    daemon.kill('SIGTERM')
    await new Promise((resolve) => (daemon.exitCode !== null ? resolve() : daemon.on('exit', resolve)))
    server.stop()
    await reapStubs(stubs)
  }
}

async function liveTasks(ctx) {
  const count = ctx.quick ? 20 : 100
  const {startup, samples, max} = await runLiveDaemon(ctx, 'live-daemon', count)
  return [
    valueRow({
      id: 'live-tasks-100',
      figure: `makima daemon with ${count} live tasks (stub claude): RSS`,
      value: round(max, 1),
      unit: 'MB',
      op: '<',
      target: 150,
      detail: `${count} spawnTask to ${count} running in ${startup.toFixed(1)} s; VmRSS of the daemon process, ${samples.length} samples 0.5 s apart: ${samples.map((v) => v.toFixed(1)).join(', ')} MB (max counts); stub claude processes not counted`,
    }),
  ]
}

/** The cost of serving metrics (issue 21): the same daemon with and without --metrics-port and a scrape a second. */
async function metricsCost(ctx) {
  const count = ctx.quick ? 20 : 50
  const plain = await runLiveDaemon(ctx, 'metrics-off', count)
  const served = await runLiveDaemon(ctx, 'metrics-on', count, {metrics: true})
  const rate = (r) => count / r.startup
  return [
    valueRow({
      id: 'metrics-rss',
      figure: `  (info) daemon RSS with ${count} live tasks: metrics served and scraped every second vs off`,
      value: round(served.max, 1),
      unit: 'MB',
      detail: `with --metrics-port and ${served.scrapes} scrapes of /metrics: ${served.max.toFixed(1)} MB; without: ${plain.max.toFixed(1)} MB (+${(served.max - plain.max).toFixed(1)} MB)`,
    }),
    valueRow({
      id: 'metrics-throughput',
      figure: `  (info) tasks started per second (${count} spawnTask to running): metrics scraped every second vs off`,
      value: round(rate(served), 1),
      unit: 'tasks/s',
      detail: `with metrics: ${rate(served).toFixed(1)} tasks/s (${served.startup.toFixed(1)} s); without: ${rate(plain).toFixed(1)} tasks/s (${plain.startup.toFixed(1)} s)`,
    }),
  ]
}

async function liveRunners(ctx) {
  const count = ctx.quick ? 10 : 20
  const world = benchWorld(ctx.scratch, 'live-runners')
  const env = {...world.env, MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: slowStub(world.dir), MAKIMA_DAEMON_PROCESS_MAXCONCURRENTTASKS: String(count)}
  const ids = []
  let pids = []
  let stubs = []
  try {
    for (let i = 0; i < count; i++) ids.push(JSON.parse((await makima(['task', 'spawn', '--detach', '--json', `bench runner ${i + 1}`], {env, capture: true})).stdout).taskId)
    const start = Date.now()
    for (;;) {
      const tasks = await withStore(world.db, (store) => ids.map((id) => store.tasks.require(id)))
      pids = tasks.map((t) => t.runnerPid).filter(Boolean)
      stubs = tasks.map((t) => t.pid).filter(Boolean)
      if (tasks.every((t) => t.state === 'running')) break
      if (Date.now() - start > 120_000)
        throw new Error(
          `bench: detached tasks not running: ${tasks
            .filter((t) => t.state !== 'running')
            .map((t) => `${t.shortId} ${t.state}`)
            .join(', ')}`,
        )
      await sleep(200)
    }
    await sleep(1000)
    const samples = await sampleRss(pids, 4, 500)
    const max = Math.max(...samples)
    return [
      valueRow({
        id: 'live-runners',
        figure: `  (info) ${count} detached CLI tasks: sum of runner RSS`,
        value: round(max, 1),
        unit: 'MB',
        detail: `${count} \`task spawn --detach\` runners (\`task run\`, one process each), summed VmRSS ${samples.map((v) => v.toFixed(0)).join(', ')} MB, ${(max / count).toFixed(1)} MB a runner (x100: ~${Math.round((max / count) * 100)} MB)`,
      }),
    ]
  } finally {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    await reapStubs(stubs)
  }
}

/** Each: {id, title, measure(ctx) -> rows}; ctx = {scratch, quick, shared}. */
export const LIVE_FIGURES = [
  {id: 'live-tasks-100', title: '100 live tasks in makima daemon: RSS', measure: liveTasks},
  {id: 'live-runners', title: 'detached CLI runners: RSS', measure: liveRunners},
  {id: 'metrics-cost', title: 'the cost of serving metrics: daemon RSS and task start rate, scraped every second vs off', measure: metricsCost},
]
