#!/usr/bin/env node
// npm's `prepare` script: builds dist/ (npm run build) when makima is installed from a git URL
// or a folder (`npm install -g <git URL or folder>`) and after `npm ci` / `npm install` in a
// checkout. `npm pack` and `npm publish` build in `prepack` instead, so it skips those; so does an
// install without the sources (the Dockerfile's `npm ci` runs before src/ is copied in).
import {spawnSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const command = process.env.npm_command ?? ''

if (command === 'pack' || command === 'publish') process.exit(0)
if (!existsSync(path.join(ROOT, 'src')) || !existsSync(path.join(ROOT, 'tsconfig.json'))) {
  process.stdout.write('makima prepare: no sources here (src/, tsconfig.json); not building\n')
  process.exit(0)
}
const result = spawnSync('npm', ['run', 'build'], {cwd: ROOT, stdio: 'inherit'})
process.exit(result.status ?? 1)
