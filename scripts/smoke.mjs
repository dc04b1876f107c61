#!/usr/bin/env node
// A smoke run of an installed makima under the Node.js that runs this script (CI runs it with
// Node 22, 24 and 26 on an install made for each: .ci/run, scripts/node-smoke.sh; the suite runs
// it on its own Node: test/cli/smoke-script.test.ts). Offline and isolated: its own HOME and
// MAKIMA_HOME in a temp dir, servers on 127.0.0.1 port 0, every process it started ended.
//   node scripts/smoke.mjs [--claude <claude executable>]
// Steps: `makima --version` (names this Node); a real attached `task spawn --json` on a temp git
// repository with the real Claude Code CLI (node_modules' @anthropic-ai/claude-code, or --claude)
// against the scripted Anthropic API of the tests; `task list --json` lists that task; `makima
// daemon` against a small WebSocket server: its `authenticate` (docs/protocol.md "Handshake"), the
// server's `authenticated`, then one command (`inheritGitConfig`) and its answer.
// Exit 0 when every step passed; else 1 and one line naming this Node's version and the step.
import {spawn} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {parseArgs} from 'node:util'

import {isolatedEnvironment} from './isolated-env.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const NODE = process.version
const MARKER = 'MAKIMA_SMOKE_ID'
const GIT_EMAIL = 'smoke@makima.invalid'
const {values: options} = parseArgs({options: {claude: {type: 'string'}}})
const claude = path.resolve(options.claude ?? path.join(ROOT, 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe'))
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))

class StepFailure extends Error {}
const fail = (message) => {
  throw new StepFailure(message)
}

/**
 * The test support this needs (the scripted API, the daemon endpoint, the process sweep), compiled
 * from test/support/*.ts with esbuild (a devDependency, as bench/ does) into node_modules/.cache,
 * where its imports (ws) resolve.
 */
async function loadSupport() {
  const {build} = await import('esbuild')
  const outfile = path.join(ROOT, 'node_modules', '.cache', 'makima-smoke', `support-${process.pid}.mjs`)
  const contents = [
    "export {startScriptedApi, steps} from './scripted-api.ts'",
    "export {listenForDaemons, DAEMON_PATH} from './daemon-endpoint.ts'",
    "export {killProcessesWithEnv} from './processes.ts'",
  ].join('\n')
  await build({
    stdin: {contents, resolveDir: path.join(ROOT, 'test', 'support'), loader: 'ts'},
    outfile,
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'error',
  })
  try {
    return await import(pathToFileURL(outfile).href)
  } finally {
    rmSync(outfile, {force: true})
  }
}

/** Runs a command to its end: {code, signal, stdout, stderr}; killed (and failed) after timeoutMs. */
function run(command, args, {env, cwd, timeoutMs = 120_000}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {env, cwd, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (signal === 'SIGKILL' && code === null) reject(new StepFailure(`\`${args.join(' ')}\` did not end within ${timeoutMs / 1000} s; stderr: ${tail(stderr)}`))
      else resolve({code, signal, stdout, stderr})
    })
  })
}

const tail = (text, lines = 8) => text.trim().split('\n').slice(-lines).join('\n') || '(empty)'
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls until fn() is truthy; fails with `what` after timeoutMs. */
async function until(fn, what, timeoutMs = 60_000) {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(50)) {
    const value = fn()
    if (value) return value
  }
  fail(`${what} within ${timeoutMs / 1000} s`)
}

/** The isolated environment of every child: own HOME and MAKIMA_HOME, claude and this Node first on PATH. */
function isolatedEnv(root, apiUrl, marker) {
  const bin = path.join(root, 'bin')
  mkdirSync(path.join(root, 'makima-home'), {mode: 0o700})
  mkdirSync(bin)
  symlinkSync(claude, path.join(bin, 'claude'))
  return isolatedEnvironment({
    home: path.join(root, 'home'),
    makimaHome: path.join(root, 'makima-home'),
    apiUrl,
    apiKey: 'smoke-key',
    gitName: 'makima smoke',
    gitEmail: GIT_EMAIL,
    pathDirs: [bin, path.dirname(process.execPath)],
    extra: {[MARKER]: marker},
  })
}

/** The daemon handshake: authenticate -> authenticated, then inheritGitConfig -> gitConfigInherited (the git identity of HOME). */
async function daemonHandshake(support, env, sourceDir) {
  const apiKey = `mk-smoke-${randomUUID()}`
  const daemonId = randomUUID()
  const frames = []
  const endpoint = await support.listenForDaemons(0, (ws) => {
    ws.on('message', (data) => {
      let msg
      try {
        msg = JSON.parse(data.toString())
      } catch {
        return
      }
      frames.push(msg)
      if (msg.type === 'authenticate') {
        ws.send(JSON.stringify({type: 'authenticated', daemonId}))
        ws.send(JSON.stringify({type: 'inheritGitConfig', sourceDir}))
      } else if (typeof msg.seq === 'number') ws.send(JSON.stringify({type: 'ack', seq: msg.seq}))
    })
    ws.on('error', () => {})
  })
  const daemon = spawn(process.execPath, [path.join(ROOT, 'bin', 'run.js'), 'daemon', '--server-url', `ws://127.0.0.1:${endpoint.port}`], {
    env: {...env, MAKIMA_DAEMON_SERVER_APIKEY: apiKey},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  let exit
  daemon.stdout.on('data', (d) => (output += d))
  daemon.stderr.on('data', (d) => (output += d))
  daemon.on('exit', (code, signal) => (exit = {code, signal}))
  try {
    const hello = await until(
      () => frames.find((m) => m.type === 'authenticate') ?? (exit && fail(`the daemon exited (${JSON.stringify(exit)}) before it authenticated: ${tail(output)}`)),
      'no authenticate from the daemon',
    )
    if (hello.apiKey !== apiKey) fail('authenticate carried another API key than MAKIMA_DAEMON_SERVER_APIKEY')
    if (hello.version !== pkg.version) fail(`authenticate says version ${JSON.stringify(hello.version)}, package.json ${pkg.version}`)
    const answer = await until(() => frames.find((m) => m.type === 'gitConfigInherited' || m.type === 'commandError'), 'no answer to inheritGitConfig')
    if (answer.type !== 'gitConfigInherited' || answer.userEmail !== GIT_EMAIL) fail(`inheritGitConfig of ${sourceDir} was answered ${JSON.stringify(answer)} (expected userEmail ${GIT_EMAIL})`)
    daemon.kill('SIGTERM')
    await until(() => exit, 'the daemon did not exit after SIGTERM', 30_000)
    if (exit.code !== 0) fail(`the daemon exited ${JSON.stringify(exit)} after SIGTERM: ${tail(output)}`)
  } finally {
    if (!exit) daemon.kill('SIGKILL')
    endpoint.wss.close()
    for (const s of endpoint.sockets) s.destroy()
    await new Promise((resolve) => endpoint.http.close(() => resolve()))
  }
}

async function main() {
  let step = 'set-up'
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'makima-smoke-')))
  const marker = randomUUID()
  let support
  let api
  const started = Date.now()
  const done = (what) => process.stdout.write(`smoke (Node ${NODE}): ${what} ok (${((Date.now() - started) / 1000).toFixed(1)} s)\n`)
  try {
    if (!existsSync(path.join(ROOT, 'dist', 'bundle', 'cli.js'))) fail(`no build in ${ROOT}/dist (run npm run build)`)
    if (!existsSync(claude)) fail(`no Claude Code CLI at ${claude} (npm ci installs the devDependency; or pass --claude)`)
    support = await loadSupport()
    api = await support.startScriptedApi(support.steps({bash: 'echo smoke > smoke.txt'}, {text: 'Wrote smoke.txt.'}))
    const env = isolatedEnv(root, api.url, marker)
    const repo = path.join(root, 'repo')
    mkdirSync(repo)
    for (const args of [
      ['init', '-q'],
      ['commit', '-q', '--allow-empty', '-m', 'initial'],
    ]) {
      const git = await run('git', args, {env, cwd: repo})
      if (git.code !== 0) fail(`git ${args.join(' ')}: ${tail(git.stderr)}`)
    }
    const makima = (args) => run(process.execPath, [path.join(ROOT, 'bin', 'run.js'), ...args], {env, cwd: repo})

    step = 'makima --version'
    const version = await makima(['--version'])
    if (version.code !== 0 || !version.stdout.includes(`makima/${pkg.version}`) || !version.stdout.includes(`node-${NODE}`)) {
      fail(`exit ${version.code}, stdout ${JSON.stringify(version.stdout.trim())} (expected makima/${pkg.version} and node-${NODE}); stderr: ${tail(version.stderr)}`)
    }
    done(step)

    step = 'task spawn'
    const spawned = await makima(['task', 'spawn', '--json', '--repo', repo, 'write smoke.txt'])
    if (spawned.code !== 0) fail(`exit ${spawned.code}; stderr: ${tail(spawned.stderr)}`)
    const task = JSON.parse(spawned.stdout)
    if (task.state !== 'completed') fail(`the task ended ${task.state}: ${task.error ?? ''}`)
    const written = path.join(task.worktreePath, 'smoke.txt')
    if (!existsSync(written) || readFileSync(written, 'utf8') !== 'smoke\n') fail(`claude's Bash tool did not write ${written}`)
    if (!spawned.stderr.includes('Wrote smoke.txt.')) fail(`the transcript lacks the scripted answer; stderr: ${tail(spawned.stderr)}`)
    done(step)

    step = 'task list --json'
    const list = await makima(['task', 'list', '--json', '--all'])
    if (list.code !== 0) fail(`exit ${list.code}; stderr: ${tail(list.stderr)}`)
    const listed = JSON.parse(list.stdout).find((t) => t.id === task.id)
    if (!listed || listed.state !== 'completed') fail(`task ${task.id} is ${listed ? listed.state : 'not listed'}`)
    done(step)

    step = 'daemon handshake'
    await daemonHandshake(support, env, repo)
    done(step)
    process.stdout.write(`smoke (Node ${NODE}): every step passed\n`)
  } catch (error) {
    const detail = error instanceof StepFailure ? error.message : (error?.stack ?? String(error))
    process.stderr.write(`smoke run on Node ${NODE} failed at step "${step}": ${detail}\n`)
    process.exitCode = 1
  } finally {
    await api?.close()
    support?.killProcessesWithEnv(MARKER, marker)
    rmSync(root, {recursive: true, force: true, maxRetries: 3})
  }
}

await main()
