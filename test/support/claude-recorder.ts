// Records how makima starts claude: process.claudeCommand pointed at a wrapper that writes its argv
// and execs the REAL claude (a recorder, not a fake: every reply still comes from the real CLI).
import {mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {expect} from 'vitest'

import {PINNED_CLAUDE} from './env.js'
import type {TaskWorld} from './task-helpers.js'

/**
 * Points process.claudeCommand at a two-line wrapper that writes its argv to a file and execs the
 * REAL claude (not a fake: every reply still comes from the real CLI), so a test can see how each
 * run was started. Returns a reader of the recorded command lines, one per claude process.
 * `claude`: the real executable it runs (default: the pinned one).
 */
export async function recordClaudeArgv(w: TaskWorld, claude = PINNED_CLAUDE): Promise<() => string[][]> {
  const dir = join(w.t.root, 'claude-argv')
  mkdirSync(dir)
  const wrapper = join(w.t.root, 'claude-argv-recorder.sh')
  writeFileSync(wrapper, `#!/bin/sh\n# records its argv (NUL-separated, one file per process) and runs the real claude\nprintf '%s\\0' "$@" > '${dir}'/"$(date +%s%N)-$$"\nexec '${claude}' "$@"\n`, {
    mode: 0o755,
  })
  const set = await w.makima(['config', 'set', 'process.claudeCommand', wrapper])
  expect(set.code, set.stderr).toBe(0)
  return () =>
    readdirSync(dir)
      .sort()
      .map((f) => readFileSync(join(dir, f), 'utf8').split('\0').slice(0, -1))
}
