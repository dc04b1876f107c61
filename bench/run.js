#!/usr/bin/env node
// Start-up bench (docs/design.md, "Start-up cost"): each figure spawns a makima command and a
// yardstick command N times, alternating, after a warm-up, and compares the median wall times.
//
//   npm run bench [-- --quick] [-- --json]
//
// It measures the built CLI (`npm run build` first) through its ordinary entry, bin/run.js.
// A missed target is marked in the table (and `ok: false` in --json) but the exit code stays 0;
// the exit code is 1 only when the bench itself cannot run (no build, a command that fails).
//
// To add a start-up figure, append to FIGURES below: {id, title, target, setup?, makima, yardstick}.
// The other figures run whole tasks and come from their own files, each {id, title, measure(ctx)}
// returning rows: daemon-figures.js (outbox, recovery), repo-figures.js (20k-file repository),
// claude-figures.js (150 tool calls, ingestion), live-figures.js (100 live tasks), fleet-figures.js
// (failover and drain of daemons in a fleet). Every row goes
// in the one table (and --json): figure, makima, yardstick, ratio, target, ok (README.md).
//
//   npm run bench -- --only spawn-detach-20k,ingestion    # just these figures (ids as in --json)
import {spawnSync} from 'node:child_process'
import {accessSync, constants, existsSync, mkdtempSync, rmSync} from 'node:fs'
import {cpus, loadavg, tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {CLAUDE_FIGURES} from './claude-figures.js'
import {CLAUDE_WORKTREE_FIGURES} from './claude-worktree-figures.js'
import {DAEMON_FIGURES} from './daemon-figures.js'
import {FLEET_FIGURES} from './fleet-figures.js'
import {LIVE_FIGURES} from './live-figures.js'
import {QUEUE_FIGURES} from './queue-figures.js'
import {BIG_REPO_FIGURES, REPO_FIGURES} from './repo-figures.js'
import {seedTasks} from './seed.js'
import {valueRow} from './support.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const BIN = path.join(ROOT, 'bin', 'run.js')
const NODE = process.execPath

const args = process.argv.slice(2)
const QUICK = args.includes('--quick')
const JSON_OUT = args.includes('--json')
const ONLY = args.includes('--only') ? args[args.indexOf('--only') + 1].split(',') : null
const RUNS = QUICK ? 8 : 30
const WARMUP = QUICK ? 2 : 5

const nodeNoop = {label: 'node -e 0', argv: ['-e', '0']}

/**
 * Figure definitions. `setup(ctx)` prepares the figure's MAKIMA_HOME (ctx.home, empty and fresh
 * for each figure; ctx.storeModule is dist/lib/store/store.js as a file URL) before any run.
 * `makima` is the argument list after `node bin/run.js`; `yardstick` is {label, argv for node}.
 * `check(stdout)` (optional) looks at the first run's output: true, or a message saying what is wrong.
 */
const FIGURES = [
  {
    id: 'version',
    title: 'makima --version',
    target: 2.0,
    makima: ['--version'],
    yardstick: nodeNoop,
    check: (stdout) => /^makima\/\d/.test(stdout) || 'expected a version line',
  },
  {
    // The first (checked) run creates the database; the timed runs open an existing empty one.
    id: 'task-list-empty',
    title: 'makima task list --json (empty DB)',
    target: 2.5,
    makima: ['task', 'list', '--json'],
    yardstick: nodeNoop,
    check: (stdout) => JSON.parse(stdout).length === 0 || 'expected []',
  },
  {
    // Ended tasks only (no runner liveness checks run); `task list` hides ended tasks unless
    // --all is given, so --all makes the command read and print all 1,000.
    id: 'task-list-1000',
    title: 'makima task list --all --json (1,000 tasks)',
    target: 3.0,
    setup: async (ctx) => seedTasks(ctx.storeModule, path.join(ctx.home, 'makima.db'), 1000),
    makima: ['task', 'list', '--all', '--json'],
    yardstick: nodeNoop,
    check: (stdout) => JSON.parse(stdout).length === 1000 || `expected 1000 tasks, got ${JSON.parse(stdout).length}`,
  },
]

function runOnce(argv, env) {
  const start = process.hrtime.bigint()
  const result = spawnSync(NODE, argv, {env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024})
  const ms = Number(process.hrtime.bigint() - start) / 1e6
  if (result.error) throw result.error
  if (result.status !== 0) {
    throw new Error(`\`node ${argv.join(' ')}\` exited ${result.status ?? result.signal}: ${String(result.stderr).trim().slice(0, 500)}`)
  }
  return {ms, stdout: String(result.stdout)}
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

async function measure(figure, scratch) {
  const dir = mkdtempSync(path.join(scratch, `${figure.id}-`))
  const home = path.join(dir, 'makima-home')
  const userHome = path.join(dir, 'home')
  const env = {...process.env, MAKIMA_HOME: home, HOME: userHome, NO_COLOR: '1'}
  for (const name of Object.keys(env)) {
    if (name.startsWith('MAKIMA_') && name !== 'MAKIMA_HOME') delete env[name]
  }
  for (const name of ['NODE_OPTIONS', 'NODE_DEBUG', 'DEBUG']) delete env[name]
  const storeModule = pathToFileURL(path.join(ROOT, 'dist', 'lib', 'store', 'store.js')).href
  if (figure.setup) await figure.setup({home, userHome, storeModule})

  const makimaArgv = [BIN, ...figure.makima]
  const yardArgv = figure.yardstick.argv
  const first = runOnce(makimaArgv, env)
  const verdict = figure.check ? figure.check(first.stdout) : true
  if (verdict !== true) throw new Error(`${figure.title}: unexpected output (${verdict}): ${first.stdout.slice(0, 300)}`)
  for (let i = 1; i < WARMUP; i++) runOnce(makimaArgv, env)
  for (let i = 0; i < WARMUP; i++) runOnce(yardArgv, env)

  const makima = []
  const yard = []
  for (let i = 0; i < RUNS; i++) {
    // alternate which goes first so drift affects both alike
    if (i % 2 === 0) {
      makima.push(runOnce(makimaArgv, env).ms)
      yard.push(runOnce(yardArgv, env).ms)
    } else {
      yard.push(runOnce(yardArgv, env).ms)
      makima.push(runOnce(makimaArgv, env).ms)
    }
  }
  const m = median(makima)
  const y = median(yard)
  // judged at the precision shown, so a row never reads "2.00x <= 2.0x MISSED"
  const ratio = round(m / y, 2)
  // makima and yardstick: median wall time in ms; ratio: makima / yardstick; ok: ratio <= target
  return {
    figure: figure.title,
    makima: round(m, 1),
    yardstick: round(y, 1),
    ratio,
    target: figure.target,
    ok: ratio <= figure.target,
    id: figure.id,
    unit: 'ms',
    targetKind: 'ratio <=',
    yardstickCommand: figure.yardstick.label,
    runs: RUNS,
    detail: `medians of ${RUNS} runs each`,
  }
}

function round(n, digits) {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

function formatValue(value, unit) {
  if (value === null || value === undefined) return '-'
  if (unit === 'ms') return `${value.toFixed(1)} ms`
  if (unit === 's') return `${value.toFixed(3)} s`
  return `${value.toLocaleString('en')} ${unit}`
}

function formatTarget(r) {
  if (r.targetKind === 'info') return 'info'
  if (r.targetKind === 'ratio <=') return `<= ${r.target.toFixed(2).replace(/0$/, '')}x`
  return `${r.targetKind.replace('makima ', '')} ${r.target.toLocaleString('en')} ${r.unit}`
}

/** The one table: every figure with makima's value, the yardstick's, their ratio and the target. */
function table(rows) {
  const header = ['figure', 'makima', 'yardstick', 'ratio', 'target', 'ok']
  const cells = rows.map((r) => [
    r.figure,
    formatValue(r.makima, r.unit),
    r.yardstick === null ? '-' : `${formatValue(r.yardstick, r.unit)} (${r.yardstickCommand})`,
    r.ratio === null ? '-' : `${r.ratio.toFixed(r.ratio < 0.1 ? 3 : 2)}x`,
    formatTarget(r),
    r.ok === null ? '' : r.ok ? 'ok' : 'MISSED',
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)))
  const line = (c) =>
    c
      .map((cell, i) => cell.padEnd(widths[i]))
      .join(' | ')
      .trimEnd()
  const details = rows.filter((r) => r.detail).map((r) => `  ${r.id}: ${r.detail}`)
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...cells.map(line), '', ...details].join('\n')
}

/**
 * Where the fleet figures run: MAKIMA_BENCH_TMPDIR, else a tmpfs when there is one (fleet-figures.js).
 * The repository figures run in MAKIMA_BENCH_TMPDIR too when it is set, else on the disk, where
 * makima's worktrees are (repo-figures.js says why).
 */
function fastTmpdir() {
  const candidates = [process.env.MAKIMA_BENCH_TMPDIR, '/dev/shm'].filter(Boolean)
  for (const dir of candidates) {
    try {
      accessSync(dir, constants.W_OK)
      return dir
    } catch {
      // next
    }
  }
  return tmpdir()
}

async function main() {
  if (!existsSync(path.join(ROOT, 'dist')) || !existsSync(path.join(ROOT, 'oclif.manifest.json'))) {
    process.stderr.write('bench: no build found; run `npm run build` first\n')
    process.exit(1)
  }
  const scratch = mkdtempSync(path.join(tmpdir(), 'makima-bench-'))
  const fastScratch = mkdtempSync(path.join(fastTmpdir(), 'makima-bench-'))
  const cleanup = () => {
    rmSync(scratch, {recursive: true, force: true})
    rmSync(fastScratch, {recursive: true, force: true})
  }
  process.on('SIGINT', () => {
    cleanup()
    process.exit(130)
  })
  const loadBefore = loadavg()[0]
  const started = Date.now()
  const wanted = (id) => ONLY === null || ONLY.includes(id)
  const progress = (text) => JSON_OUT || process.stderr.write(`bench: ${text}...\n`)
  const rows = []
  const failed = []
  try {
    for (const figure of FIGURES.filter((f) => wanted(f.id))) {
      progress(`${figure.title} (${RUNS} runs each)`)
      rows.push(await measure(figure, scratch))
    }
    for (const figure of DAEMON_FIGURES.filter((f) => wanted(f.id))) {
      progress(figure.title)
      const {value, detail} = await figure.measure({root: ROOT, scratch, quick: QUICK})
      rows.push(valueRow({id: figure.id, figure: figure.title, value, unit: figure.unit, op: figure.target.op, target: figure.target.value, detail}))
    }
    const repoScratch = process.env.MAKIMA_BENCH_TMPDIR ? fastScratch : scratch
    const ctx = {scratch, fastScratch, repoScratch, quick: QUICK, shared: {}}
    for (const figure of [...REPO_FIGURES, ...CLAUDE_WORKTREE_FIGURES, ...BIG_REPO_FIGURES, ...CLAUDE_FIGURES, ...LIVE_FIGURES, ...QUEUE_FIGURES, ...FLEET_FIGURES].filter((f) => wanted(f.id))) {
      progress(figure.title)
      try {
        rows.push(...(await figure.measure(ctx)))
      } catch (error) {
        // the other figures still run; the bench exits 1 at the end
        process.stderr.write(`bench: ${figure.id} could not run: ${error.stack ?? error}\n`)
        failed.push(figure.id)
      }
    }
  } finally {
    cleanup()
  }
  const load = `load average ${loadBefore.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end`
  if (JSON_OUT) {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
  } else {
    process.stdout.write(`${table(rows)}\n`)
    process.stdout.write(`\nnode ${process.version}, ${cpus().length} CPUs, ${load}; ${((Date.now() - started) / 1000).toFixed(0)} s${QUICK ? ' (--quick)' : ''}\n`)
    const missed = rows.filter((r) => r.ok === false)
    process.stdout.write(missed.length === 0 ? '\nall targets met\n' : `\n${missed.length} target(s) MISSED: ${missed.map((r) => r.id).join(', ')}\n`)
  }
  if (failed.length > 0) {
    process.stderr.write(`bench: could not run ${failed.join(', ')}\n`)
    process.exit(1)
  }
}

main().catch((error) => {
  process.stderr.write(`bench: ${error.stack ?? error}\n`)
  process.exit(1)
})
