// The Claude Code for the figures that compare makima with Claude Code's own `--worktree`
// (claude-worktree-figures.js, issue 22): users run the newest release, and how fast its
// `--worktree` checks out depends on the version (parallel checkout since 2.1.265). The pinned
// devDependency is the newest release makima is tested with (src/lib/claude/tested-versions.ts),
// so it is the default:
//
//   MAKIMA_BENCH_CLAUDE=<path>   that executable (its `--version` is reported), e.g. a newer
//                                release installed with `npm install --prefix <dir>
//                                @anthropic-ai/claude-code@<v>` (never --omit=optional)
//   node_modules/@anthropic-ai/claude-code, the pinned devDependency, otherwise
import {execFileSync} from 'node:child_process'
import path from 'node:path'

import {ROOT} from './support.js'

function versionOf(executable) {
  return execFileSync(executable, ['--version'], {encoding: 'utf8', timeout: 30_000}).trim().split(/\s/)[0]
}

/** {path, version, how}: the Claude Code executable to measure against. */
export function newestClaude() {
  if (process.env.MAKIMA_BENCH_CLAUDE) {
    const file = path.resolve(process.env.MAKIMA_BENCH_CLAUDE)
    return {path: file, version: versionOf(file), how: 'MAKIMA_BENCH_CLAUDE'}
  }
  const pinned = path.join(ROOT, 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe')
  return {path: pinned, version: versionOf(pinned), how: 'the pinned devDependency (the newest tested)'}
}
