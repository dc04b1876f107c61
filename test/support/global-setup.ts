// vitest globalSetup (vitest.config.ts): the CLI tests run the build (bin/run.js imports
// dist/bundle/), so a run stops before the first test when the build is older than what it is
// built from, instead of testing stale code.
import {existsSync, readdirSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'

import {projectRoot} from './env.js'

/** What `npm run build` writes that the tests load: the bundle bin/run.js imports, and oclif's command manifest (written last). */
export const BUILD_OUTPUTS = ['dist/bundle/cli.js', 'dist/bundle/commands.js', 'oclif.manifest.json']
/** What the build is made from: every file under src/, and these. */
export const BUILD_INPUTS = ['package.json', 'tsconfig.json', 'scripts/build.mjs']

/** Set to 1 to run tests against whatever dist/ holds (e.g. unit tests only, which import src/ directly). */
export const SKIP_VARIABLE = 'MAKIMA_SKIP_DIST_CHECK'

/** Why the build in `root` cannot be tested as it is (missing, or older than a source file), or null when it is current. */
export function staleBuild(root: string): string | null {
  let built = Infinity
  for (const output of BUILD_OUTPUTS) {
    const file = join(root, output)
    if (!existsSync(file)) return `${output} is missing: run npm run build`
    built = Math.min(built, statSync(file).mtimeMs)
  }
  const inputs = [...BUILD_INPUTS.map((p) => join(root, p)).filter((file) => existsSync(file)), ...filesUnder(join(root, 'src'))]
  let newest: {file: string; mtimeMs: number} | undefined
  for (const file of inputs) {
    const {mtimeMs} = statSync(file)
    if (mtimeMs > built && (!newest || mtimeMs > newest.mtimeMs)) newest = {file, mtimeMs}
  }
  return newest ? `dist/ is older than ${relative(root, newest.file)}: run npm run build` : null
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, {withFileTypes: true}).flatMap((entry) => {
    const path = join(dir, entry.name)
    return entry.isDirectory() ? filesUnder(path) : entry.isFile() ? [path] : []
  })
}

export default function setup(): void {
  if (process.env[SKIP_VARIABLE] === '1') return
  const problem = staleBuild(projectRoot)
  if (!problem) return
  // An exception here reads as "No test files found" followed by a stack; this is the whole story.
  process.stderr.write(`\nmakima tests: ${problem} (or set ${SKIP_VARIABLE}=1 to test the build as it is)\n\n`)
  process.exit(1)
}
