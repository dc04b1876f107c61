#!/usr/bin/env node
// npm's `prepare` script: builds dist/ (npm run build) when makima is installed from a folder
// (`npm install -g <folder>`), in npm's clone of a git URL (`npm pack <git URL>`), and after
// `npm ci` / `npm install` in a checkout. `npm pack` and `npm publish` build in `prepack` instead,
// so it skips those; so does an install without the sources (the Dockerfile's `npm ci` runs
// before src/ is copied in).
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const command = process.env.npm_command ?? ''

if (command === 'pack' || command === 'publish' || process.env.MAKIMA_PREPARE_NESTED === '1') process.exit(0)
if (!existsSync(path.join(ROOT, 'src')) || !existsSync(path.join(ROOT, 'tsconfig.json'))) {
  process.stdout.write('makima prepare: no sources here (src/, tsconfig.json); not building\n')
  process.exit(0)
}
// `npm install -g <git URL>`: npm prepares its clone (in its cache, git-clone*) with an `npm install`
// that inherits the global flag, so it installs the clone as a global package of its own while the
// outer install writes the same folder: it ends in `tsc: not found` or ENOENT (npm/cli#8440, #3692,
// open with npm 11; tried here three times). Say so and what works, before npm gets that far.
if (process.env.npm_config_global === 'true' && /^git-clone/.test(path.basename(ROOT))) {
  process.stderr.write(
    'makima prepare: `npm install -g <git URL>` does not work with npm (it prepares the clone in global mode: npm/cli#8440). ' +
      'Instead: `npm pack <git URL>` (it builds), then `npm install -g ./makima-<version>.tgz`; or clone it and run `npm ci && npm link` (or `npm install -g <folder>`) there.\n',
  )
  process.exit(1)
}
// The build needs the devDependencies (tsc, esbuild, oclif). `npm ci` in a checkout installs them;
// an install that leaves them out (--omit=dev, NODE_ENV=production, a folder without
// node_modules) would fail deep in the build with `tsc: not found` and leave a package without dist/: say what to do.
const TOOLS = ['typescript/bin/tsc', 'esbuild/package.json', 'oclif/package.json']
const missingTools = () => TOOLS.filter((file) => !existsSync(path.join(ROOT, 'node_modules', file)))
// `npm install -g <folder>`: npm links the folder and runs this there in
// global mode, having installed none of its dependencies there (npm/cli#8440, open with npm 11), so
// the build would fail with `tsc: not found`. Install them here, locally, first: a folder install
// links the folder, so makima then runs on that node_modules (better-sqlite3 built by its install
// script). The nested install runs this script again: MAKIMA_PREPARE_NESTED makes that a no-op.
if (missingTools().length > 0 && process.env.npm_config_global === 'true') {
  process.stdout.write(`makima prepare: installing the dependencies in ${ROOT} first (npm runs prepare in global mode with none installed: npm/cli#8440)\n`)
  const env = {...process.env, MAKIMA_PREPARE_NESTED: '1'}
  for (const key of Object.keys(env)) if (/^npm_config_(global|prefix|location)$/i.test(key)) delete env[key]
  const installed = spawnSync('npm', ['install', '--global=false', '--include=dev', '--no-save', '--no-audit', '--no-fund'], {cwd: ROOT, env, stdio: 'inherit'})
  if (installed.status !== 0) process.stderr.write(`makima prepare: npm install in ${ROOT} exited ${installed.status ?? installed.signal}\n`)
}
const missing = missingTools()
if (missing.length > 0) {
  const names = missing.map((file) => file.split('/')[0]).join(', ')
  if (existsSync(path.join(ROOT, 'dist', 'bundle', 'cli.js'))) {
    process.stdout.write(`makima prepare: the build tools (${names}) are not installed in ${ROOT}; keeping the dist/ that is there\n`)
    process.exit(0)
  }
  process.stderr.write(
    `makima prepare: cannot build dist/ in ${ROOT}: the devDependencies ${names} are not installed there ` +
      `(an install with --omit=dev or NODE_ENV=production?). Run \`npm ci\` (or \`npm install --include=dev\`) in ${ROOT}, then \`npm run build\`; ` +
      `or install a built package instead: \`npm pack\` in a checkout, then \`npm install -g ./makima-<version>.tgz\`.\n`,
  )
  process.exit(1)
}
const result = spawnSync('npm', ['run', 'build'], {cwd: ROOT, stdio: 'inherit'})
process.exit(result.status ?? 1)
