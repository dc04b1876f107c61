import {existsSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

let root: string | undefined

/**
 * The makima package root: the folder holding package.json and bin/run.js. Modules run from
 * src/ (tests), dist/ (tsc) or a chunk in dist/bundle/chunks/ (esbuild, what bin/run.js loads),
 * so a path relative to a module's own file is not the same everywhere: ask this instead.
 */
export function packageRoot(): string {
  if (root) return root
  const start = path.dirname(fileURLToPath(import.meta.url))
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'bin', 'run.js'))) return (root = dir)
    if (path.dirname(dir) === dir) throw new Error(`makima: no package root (package.json and bin/run.js) above ${start}`)
  }
}

/** bin/run.js, the CLI entry that detached runners and daemon task runners are started with. */
export function cliEntry(): string {
  return path.join(packageRoot(), 'bin', 'run.js')
}
