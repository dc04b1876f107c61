// The newest Claude Code release, for the figures that compare makima with Claude Code's own
// `--worktree` (claude-worktree-figures.js, issue 22): users run the newest release, and how fast
// its `--worktree` checks out depends on the version (parallel checkout since 2.1.265). In order:
//
//   MAKIMA_BENCH_CLAUDE=<path>   that executable (its `--version` is reported)
//   the newest release on npm    installed once into <tmpdir>/makima-bench-claude/<version> with
//                                `npm install --prefix` (optional dependencies included: the
//                                native binary is one) and reused by later bench runs
//   node_modules/claude-code-2-1-332, the npm alias devDependency, when npm cannot be asked
//   the pinned node_modules/@anthropic-ai/claude-code otherwise (the figure's detail says so)
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {ROOT} from './support.js'

const PACKAGE = '@anthropic-ai/claude-code'
const bin = (dir) => path.join(dir, 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe')

function versionOf(executable) {
  return execFileSync(executable, ['--version'], {encoding: 'utf8', timeout: 30_000}).trim().split(/\s/)[0]
}

/** {path, version, how}: the Claude Code executable to measure against, installed when needed. */
export function newestClaude() {
  if (process.env.MAKIMA_BENCH_CLAUDE) {
    const file = path.resolve(process.env.MAKIMA_BENCH_CLAUDE)
    return {path: file, version: versionOf(file), how: 'MAKIMA_BENCH_CLAUDE'}
  }
  let newest
  try {
    newest = execFileSync('npm', ['view', PACKAGE, 'version'], {encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'ignore']}).trim()
  } catch {
    newest = undefined
  }
  if (newest && /^\d+\.\d+\.\d+$/.test(newest)) {
    const dir = path.join(tmpdir(), 'makima-bench-claude', newest)
    if (!existsSync(bin(dir))) {
      mkdirSync(dir, {recursive: true})
      process.stderr.write(`bench: installing Claude Code ${newest} into ${dir} (the newest release)...\n`)
      execFileSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-save', `${PACKAGE}@${newest}`], {stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000})
    }
    return {path: bin(dir), version: versionOf(bin(dir)), how: `the newest release on npm, installed in ${dir}`}
  }
  const alias = path.join(ROOT, 'node_modules', 'claude-code-2-1-332', 'bin', 'claude.exe')
  if (existsSync(alias)) return {path: alias, version: versionOf(alias), how: 'npm could not be asked for the newest: the claude-code-2-1-332 devDependency'}
  const pinned = bin(ROOT)
  return {path: pinned, version: versionOf(pinned), how: 'npm could not be asked for the newest: the PINNED version (not what users run)'}
}
