// Fleet figures (issue 11, docs/fleet.md): `makima daemon` processes, each with its own
// MAKIMA_HOME, against the fleet server of the tests (test/support/fleet-server.ts, compiled with
// esbuild into the scratch dir; it runs in this process): each task goes to the least-busy daemon,
// and the tasks of a daemon whose connection drops or that drains are sent to another daemon with
// the last checkpoint patch the server received.
//
//   fleet-failover  3 daemons, 30 tasks of a stub claude (12 with --quick), every task running with
//                   a checkpoint patch at the server; then one daemon is SIGKILLed with every process
//                   of its "pod" (its stubs): seconds from the server noticing the dropped connection
//                   to the last of that daemon's tasks reported running on another daemon (each one
//                   re-sent with its patch: fetch, worktree at the base, patch applied, stub
//                   started); median of 3 runs (1 with --quick); target < 5 s.
//   fleet-drain-20k one daemon with 10 running tasks (4 with --quick) on the 20,000-file repository of
//                   repo-figures.js (2,000 with --quick; cloned by file:// URL into the daemon's
//                   MAKIMA_HOME), SIGTERMed: seconds from the signal to the daemon's exit, each task
//                   snapshotted and sent as a checkpoint patch, ended as drained and acked by the
//                   server; median of 3 runs (1 with --quick); target < 5 s.
//
// FLEET_BENCH_DEBUG=1 prints, for fleet-failover, when each moved task's messages reached the server.
//
// Claude Code is a stub: these figures time makima's moves, not Claude Code; the stub writes three
// files into its worktree (the work a move must carry) and then replays slow.jsonl (without its
// result line) a line every half second until its parent is gone.
import {spawn} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {bigRepo} from './repo-figures.js'
import {BIN, FIXTURES, NODE, ROOT, benchWorld, git, median, round, sleep, valueRow, writeScript} from './support.js'

/** The fleet server of the tests, compiled with esbuild so plain Node can import it. */
async function loadFleetServer(scratch) {
  const {build} = await import('esbuild')
  const outfile = path.join(scratch, 'fleet-server.mjs')
  // ws (CommonJS, bundled) requires Node's built-ins: give the ESM bundle a require
  const banner = "import {createRequire as makimaBenchRequire} from 'node:module'; const require = makimaBenchRequire(import.meta.url);"
  await build({entryPoints: [path.join(ROOT, 'test', 'support', 'fleet-server.ts')], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error', banner: {js: banner}})
  return import(pathToFileURL(outfile).href)
}

/** The stub: three files of work in its worktree, then slow.jsonl a line every 0.5 s while its parent lives. */
function workStub(dir) {
  const lines = readFileSync(path.join(FIXTURES, 'slow.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('{"type":"result"'))
  const replay = path.join(dir, 'replay.jsonl')
  writeFileSync(replay, `${lines.join('\n')}\n`)
  return writeScript(
    path.join(dir, 'claude-stub'),
    `#!/bin/bash
# STUB claude (bench/fleet-figures.js): these figures time how makima moves tasks between daemons,
# not Claude Code. It writes three files into its worktree (kept if a move brought them), then
# replays a recorded stream-json file (slow.jsonl without its result line, so the turn never ends)
# a line every half second, until the process that started it (the daemon) is gone.
for i in 1 2 3; do [ -f "bench-work-$i.txt" ] || echo "work $i $RANDOM$RANDOM" > "bench-work-$i.txt"; done
parent=$PPID
while kill -0 "$parent" 2>/dev/null; do
  while IFS= read -r line; do
    echo "$line"
    sleep 0.5
    kill -0 "$parent" 2>/dev/null || exit 0
  done < ${JSON.stringify(replay)}
done
`,
  )
}

/** Pids whose environment has name=value (a "pod": the daemon and every process it started). */
function pidsWithEnv(name, value) {
  const wanted = `${name}=${value}`
  const pids = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      if (readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0').includes(wanted)) pids.push(Number(entry))
    } catch {
      // gone, or not ours
    }
  }
  return pids
}

/** SIGKILLs a pod: every process carrying its marker, sweeping until none is left. */
function killPod(marker) {
  for (let round = 0; round < 10; round++) {
    const pids = pidsWithEnv('MAKIMA_BENCH_POD', marker)
    if (pids.length === 0) return
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // gone meanwhile
      }
    }
  }
}

/** Polls `fn` every 20 ms until it returns something truthy. */
async function until(fn, timeoutMs, what, log = () => '') {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = fn()
    if (value) return value
    if (Date.now() > deadline) throw new Error(`bench: not ${what} within ${timeoutMs / 1000} s\n${log()}`)
    await sleep(20)
  }
}

/**
 * Starts `makima daemon` for a pod (its world: MAKIMA_HOME, HOME) and waits until the server
 * has a new authentication from it; returns {child, daemonId, marker, stderr(), exited}.
 */
async function startPod(server, world, marker, extra) {
  const before = new Map([...server.daemons.values()].map((d) => [d.daemonId, d.authentications.length]))
  const env = {...world.env, MAKIMA_DAEMON_SERVER_APIKEY: 'bench-key', MAKIMA_DAEMON_SERVER_RECONNECTINTERVALSECS: '0.2', MAKIMA_BENCH_POD: marker, ...extra}
  const child = spawn(NODE, [BIN, 'daemon', '--server-url', server.url], {env, stdio: ['ignore', 'ignore', 'pipe']})
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr = (stderr + d).slice(-20_000)))
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({code, signal})))
  const daemon = await until(
    () => [...server.daemons.values()].find((d) => d.connected && d.authentications.length > (before.get(d.daemonId) ?? 0)),
    30_000,
    `daemon ${marker} connected`,
    () => stderr,
  )
  return {child, daemonId: daemon.daemonId, marker, stderr: () => stderr, exited}
}

function spawnCommand(repoUrl, i) {
  const taskId = randomUUID()
  return {taskId, taskName: `bench-fleet-${i}`, plan: `bench fleet task ${i}`, repoUrl, depth: 0, isOrchestrator: false, isSupervisor: false, autonomousLoop: false, resumeSession: false}
}

/** A small repository as a bare origin (file://): what each daemon clones into its own MAKIMA_HOME. */
function smallOrigin(scratch) {
  const world = benchWorld(scratch, 'fleet-origin')
  const work = path.join(world.dir, 'work')
  git(['init', '-q', '-b', 'main', work], world.dir, world.env)
  for (let i = 0; i < 50; i++) writeFileSync(path.join(work, `file-${i}.txt`), `file ${i}\n`)
  git(['add', '-A'], work, world.env)
  git(['commit', '-q', '-m', 'initial commit'], work, world.env)
  const bare = path.join(world.dir, 'origin.git')
  git(['clone', '-q', '--bare', work, bare], world.dir, world.env)
  return `file://${bare}`
}

async function failoverRun(ctx, startFleetServer, repoUrl, count, run) {
  const server = await startFleetServer()
  const pods = []
  try {
    for (let i = 0; i < 3; i++) {
      const world = benchWorld(ctx.scratch, `fleet-${run}-${i}`)
      const stub = workStub(world.dir)
      const marker = `fleet-${run}-${i}-${randomUUID().slice(0, 8)}`
      pods.push(
        await startPod(server, world, marker, {
          MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: stub,
          MAKIMA_DAEMON_PROCESS_MAXCONCURRENTTASKS: String(count),
          MAKIMA_DAEMON_PROCESS_HEARTBEATCOMMITINTERVALSECS: '5',
        }),
      )
    }
    const tasks = Array.from({length: count}, (_, i) => server.submit(spawnCommand(repoUrl, i)))
    // every task running, and the server holds a patch of its work
    await until(
      () => tasks.every((t) => t.assignments.at(-1)?.runningAt && t.lastPatch),
      180_000,
      `${count} tasks running with a patch`,
      () => server.describe(),
    )
    const [victim] = pods
    const moving = tasks.filter((t) => t.daemonId === victim.daemonId)
    victim.child.kill('SIGKILL')
    killPod(victim.marker)
    await until(
      () => moving.every((t) => t.assignments.length >= 2 && t.assignments.at(-1).runningAt),
      60_000,
      'the moved tasks running again',
      () => `${server.describe()}\n${server.log.slice(-40).join('\n')}`,
    )
    const drop = server.daemons.get(victim.daemonId).drops[0]
    if (process.env.FLEET_BENCH_DEBUG) {
      for (const d of server.daemons.values())
        for (const m of d.messages)
          if (m.receivedAt >= drop && moving.some((t) => t.id === m.taskId) && m.type !== 'checkpointCreated' && !(m.output ?? '').startsWith('{'))
            process.stderr.write(`+${m.receivedAt - drop} ${m.taskId.slice(0, 8)} ${m.type} ${m.output ?? m.newStatus ?? ''}\n`)
    }
    const resent = Math.max(...moving.map((t) => t.assignments.at(-1).at)) - drop
    const running = moving.map((t) => t.assignments.at(-1).runningAt - drop).sort((a, b) => a - b)
    const withPatch = moving.filter((t) => t.assignments.at(-1).patch).length
    if (withPatch !== moving.length) throw new Error(`bench: only ${withPatch} of ${moving.length} moved tasks were re-sent with a patch`)
    return {seconds: running.at(-1) / 1000, moved: moving.length, resentMs: resent, firstMs: running[0]}
  } finally {
    for (const pod of pods) {
      pod.child.kill('SIGKILL')
      killPod(pod.marker)
    }
    await server.close()
  }
}

async function failover(ctx) {
  const {startFleetServer} = await loadFleetServer(ctx.scratch)
  const count = ctx.quick ? 12 : 30
  const runs = ctx.quick ? 1 : 3
  const repoUrl = smallOrigin(ctx.scratch)
  const results = []
  for (let run = 0; run < runs; run++) results.push(await failoverRun(ctx, startFleetServer, repoUrl, count, run))
  const value = median(results.map((r) => r.seconds))
  return [
    valueRow({
      id: 'fleet-failover',
      figure: `fleet: a SIGKILLed daemon's tasks running again elsewhere (3 daemons, ${count} tasks)`,
      value: round(value, 3),
      unit: 's',
      op: '<',
      target: 5,
      runs,
      detail: `from the server noticing the drop to the last moved task running on another daemon, each re-sent with its checkpoint patch: ${results.map((r) => `${r.seconds.toFixed(2)} s (${r.moved} tasks; all re-sent after ${r.resentMs} ms, first running after ${r.firstMs} ms)`).join('; ')}; median counts`,
    }),
  ]
}

async function drainRun(server, world, stub, repoUrl, count, run) {
  const pod = await startPod(server, world, `drain-${run}-${randomUUID().slice(0, 8)}`, {MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: stub, MAKIMA_DAEMON_PROCESS_MAXCONCURRENTTASKS: String(count)})
  try {
    const tasks = Array.from({length: count}, (_, i) => server.submit(spawnCommand(repoUrl, `${run}-${i}`)))
    const daemon = server.daemons.get(pod.daemonId)
    // each stub has written its files once it prints its first line
    const printed = (t) => daemon.messages.some((m) => m.type === 'taskOutput' && m.taskId === t.id && m.output.includes('"subtype":"init"'))
    await until(
      () => tasks.every((t) => t.daemonId === pod.daemonId && t.assignments.at(-1).runningAt && printed(t)),
      300_000,
      `${count} tasks running`,
      () => `${server.describe()}\n${pod.stderr()}`,
    )
    const start = process.hrtime.bigint()
    pod.child.kill('SIGTERM')
    const exit = await pod.exited
    const seconds = Number(process.hrtime.bigint() - start) / 1e9
    const done = /drain done in ([\d.]+)s: (\d+) task\(s\) ended, (\d+) handed over with a patch; the server acked every message/.exec(pod.stderr())
    if (exit.code !== 0 || !done || Number(done[2]) !== count || Number(done[3]) !== count)
      throw new Error(`bench: the drain did not hand over ${count} tasks with their patches (exit ${exit.code ?? exit.signal}):\n${pod.stderr().slice(-3000)}`)
    const moved = tasks.filter((t) => t.moves.some((m) => m.why.startsWith('drained')) && t.lastPatch)
    if (moved.length !== count) throw new Error(`bench: the server got ${moved.length} of ${count} drained tasks with a patch`)
    return {seconds, own: Number(done[1])}
  } finally {
    pod.child.kill('SIGKILL')
    killPod(pod.marker)
    // untimed: the run's worktrees go (20,000 files each), so the next run starts as this one did
    rmSync(path.join(world.makimaHome, 'worktrees'), {recursive: true, force: true})
    for (const clone of readdirSync(path.join(world.makimaHome, 'repos'))) git(['worktree', 'prune'], path.join(world.makimaHome, 'repos', clone), world.env)
  }
}

async function drain20k(ctx) {
  const {startFleetServer} = await loadFleetServer(ctx.scratch)
  const {repo, files} = await bigRepo(ctx)
  const count = ctx.quick ? 4 : 10
  const runs = ctx.quick ? 1 : 3
  const world = benchWorld(ctx.fastScratch, 'fleet-drain')
  const stub = workStub(world.dir)
  const server = await startFleetServer()
  const results = []
  try {
    for (let run = 0; run < runs; run++) results.push(await drainRun(server, world, stub, `file://${repo}`, count, run))
  } finally {
    await server.close()
  }
  const value = median(results.map((r) => r.seconds))
  return [
    valueRow({
      id: 'fleet-drain-20k',
      figure: `fleet: drain of a SIGTERMed daemon with ${count} running tasks, ${files.toLocaleString('en')}-file repo`,
      value: round(value, 3),
      unit: 's',
      op: '<',
      target: 5,
      runs,
      detail: `SIGTERM to exit 0, every task snapshotted, sent as a checkpoint patch, ended as drained and acked: ${results.map((r) => `${r.seconds.toFixed(2)} s (the daemon's own count ${r.own.toFixed(1)} s)`).join(', ')}; median counts; worktrees in ${ctx.fastScratch.startsWith('/dev/shm') ? 'a tmpfs' : ctx.fastScratch}`,
    }),
  ]
}

/** Each: {id, title, measure(ctx) -> rows}; ctx = {scratch, fastScratch, quick, shared}. */
export const FLEET_FIGURES = [
  {id: 'fleet-failover', title: 'fleet: failover of a SIGKILLed daemon', measure: failover},
  {id: 'fleet-drain-20k', title: 'fleet: drain of a SIGTERMed daemon, 20k-file repo', measure: drain20k},
]
