// Helpers shared by the bench figures that run whole tasks (repo-figures.js, claude-figures.js,
// live-figures.js): an isolated environment, timed child processes, stub `claude` scripts, the
// project's store (to count what makima recorded) and the scripted Anthropic API of the tests.
import {execFileSync, spawn} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {isolatedEnvironment} from '../scripts/isolated-env.mjs'

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const BIN = path.join(ROOT, 'bin', 'run.js')
export const NODE = process.execPath
export const FIXTURES = process.env.MAKIMA_FIXTURES ?? path.join(ROOT, 'test', 'fixtures', 'claude-stream-json')

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export function round(n, digits) {
  const f = 10 ** digits
  return Math.round(n * f) / f
}

/**
 * A fresh directory with its own HOME (git identity), MAKIMA_HOME, and an environment for makima,
 * git and claude: nothing inherited from the caller's makima, Claude Code or git settings; the
 * real `claude` devDependency first on PATH; the Anthropic API at `apiUrl` (default: a closed port).
 */
export function benchWorld(scratch, name, {apiUrl = 'http://127.0.0.1:9', extra = {}} = {}) {
  const dir = mkdtempSync(path.join(scratch, `${name}-`))
  const home = path.join(dir, 'home')
  const makimaHome = path.join(dir, 'makima-home')
  mkdirSync(makimaHome)
  const env = isolatedEnvironment({
    home,
    makimaHome,
    apiUrl,
    apiKey: 'bench-key',
    gitName: 'makima bench',
    gitEmail: 'bench@makima.invalid',
    pathDirs: [path.join(ROOT, 'node_modules', '.bin')],
    // the pinned devDependency (node_modules/.bin/claude may be the alias devDependency's)
    extra: {MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: path.join(ROOT, 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe'), ...extra},
  })
  return {dir, home, makimaHome, env, db: path.join(makimaHome, 'makima.db')}
}

/**
 * Runs a command to its end (asynchronously, so a server in this process can answer it) and
 * times it. stdout is collected when `capture`, else discarded (/dev/null), as is stderr unless
 * the command fails. Throws when it exits non-zero (unless `allowFailure`).
 */
export function timed(command, args, {env, cwd, capture = false, allowFailure = false} = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint()
    const child = spawn(command, args, {env, cwd, stdio: ['ignore', capture ? 'pipe' : 'ignore', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout?.setEncoding('utf8').on('data', (d) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr = (stderr + d).slice(-4000)))
    child.on('error', reject)
    child.on('close', (code, signal) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6
      if (code !== 0 && !allowFailure) return reject(new Error(`\`${path.basename(command)} ${args.join(' ').slice(0, 200)}\` exited ${code ?? signal}: ${stderr.trim().slice(-1500)}`))
      resolve({ms, code, stdout, stderr})
    })
  })
}

/** `makima <args>` through the ordinary entry, timed. */
export function makima(args, options) {
  return timed(NODE, [BIN, ...args], options)
}

export function git(args, cwd, env) {
  return execFileSync('git', args, {cwd, env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 * 1024 * 1024}).toString()
}

/** Writes an executable script (a stub `claude`; its header says what it is and why). */
export function writeScript(file, text) {
  writeFileSync(file, text)
  chmodSync(file, 0o755)
  return file
}

const dist = (...parts) => pathToFileURL(path.join(ROOT, 'dist', 'lib', ...parts)).href

/** Opens a makima database with the project's own store (dist/lib/store/store.js); call close(). */
export async function openStore(dbFile) {
  const {Store} = await import(dist('store', 'store.js'))
  return Store.open(dbFile)
}

/** Reads one task (and optionally more) from a database, closing it again. */
export async function withStore(dbFile, fn) {
  const store = await openStore(dbFile)
  try {
    return fn(store)
  } finally {
    store.close()
  }
}

/** The stdout lines (claude's stream-json) makima stored for a task, in order. */
export function storedStdout(store, taskId) {
  return store.db.prepare("SELECT line FROM output WHERE task_id = ? AND stream = 'stdout' ORDER BY seq").pluck().all(taskId)
}

export function storedStdoutCount(store, taskId) {
  return store.db.prepare("SELECT count(*) FROM output WHERE task_id = ? AND stream = 'stdout'").pluck().get(taskId)
}

const ENDED = new Set(['completed', 'failed', 'interrupted'])

/** Waits until every task in `ids` has ended (its runner done with it); returns the records. */
export async function waitEnded(dbFile, ids, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const tasks = await withStore(dbFile, (store) => ids.map((id) => store.tasks.require(id)))
    if (tasks.every((t) => ENDED.has(t.state))) return tasks
    if (Date.now() > deadline)
      throw new Error(
        `tasks still running after ${timeoutMs} ms: ${tasks
          .filter((t) => !ENDED.has(t.state))
          .map((t) => `${t.shortId} ${t.state}`)
          .join(', ')}`,
      )
    await sleep(100)
  }
}

/** A process's resident set in MB (/proc/<pid>/status VmRSS), or 0 when it is gone. */
export function rssMb(pid) {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) / 1024 : 0
  } catch {
    return 0
  }
}

/** The scripted Anthropic Messages API of the test suite, for plain Node (scripts/scripted-api.mjs). */
export {loadScriptedApi} from '../scripts/scripted-api.mjs'

/** A row of the bench table for a measured value (no yardstick): see run.js for the fields. */
export function valueRow({id, figure, value, unit, op, target, detail, ok = true, runs = 1}) {
  const met = op === '>=' ? value >= target : op === '<' ? value < target : true
  return {figure, makima: value, yardstick: null, ratio: null, target, ok: op ? met && ok : null, id, unit, targetKind: op ? `makima ${op}` : 'info', yardstickCommand: null, runs, detail}
}

/**
 * MAKIMA_BENCH_TRACE=<dir>: the git trace (GIT_TRACE2_EVENT) a run writes, for figures that say
 * where their time goes; undefined when not asked for.
 */
export function traceFile(name) {
  const dir = process.env.MAKIMA_BENCH_TRACE
  if (!dir) return undefined
  mkdirSync(dir, {recursive: true})
  return path.join(dir, `${name}-${process.hrtime.bigint()}.json`)
}

/**
 * Seconds of the top-level git commands of a GIT_TRACE2_EVENT file that check out a tree
 * (`worktree add`, `checkout -b/-B`), and of all top-level git commands.
 */
export function gitTraceSeconds(file) {
  const procs = new Map()
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue
    const e = JSON.parse(line)
    const p = procs.get(e.sid) ?? {}
    procs.set(e.sid, p)
    if (e.event === 'start') Object.assign(p, {top: !e.sid.includes('/'), checkout: / worktree add (?!.*--no-checkout)| checkout --quiet -[bB] /.test(` ${e.argv.join(' ')} `)})
    if (e.event === 'exit') p.secs = e.t_abs
  }
  const top = [...procs.values()].filter((p) => p.top && p.secs !== undefined)
  return {checkout: top.filter((p) => p.checkout).reduce((a, p) => a + p.secs, 0), git: top.reduce((a, p) => a + p.secs, 0)}
}

/** The ratio of each pair (makima run i / yardstick run i), as text: `1.02, 0.95, ...`. */
export function pairRatios(m, y) {
  return m.map((v, i) => `${(v / y[i]).toFixed(2)}x`).join(', ')
}

/** A row comparing makima with a yardstick: ratio of medians, ok when ratio <= target. */
export function ratioRow({id, figure, makimaMs, yardMs, target, yardstickCommand, runs, detail, ok = true}) {
  const ratio = round(median(makimaMs) / median(yardMs), 2)
  return {
    figure,
    makima: round(median(makimaMs), 1),
    yardstick: round(median(yardMs), 1),
    ratio,
    target,
    ok: target == null ? null : ratio <= target && ok,
    id,
    unit: 'ms',
    targetKind: target == null ? 'info' : 'ratio <=',
    yardstickCommand,
    runs,
    detail,
  }
}
