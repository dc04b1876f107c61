import {spawn} from 'node:child_process'
import {closeSync, mkdirSync, openSync} from 'node:fs'
import path from 'node:path'

import {MakimaError} from '../../errors.js'
import type {MakimaEntry} from '../roles/orchestrate-script.js'

/**
 * Start `task run <id>` as a detached process that outlives this one; its output goes to
 * <home>/logs/<id>.log. Returns the runner's pid.
 */
export function spawnDetachedRunner(entry: MakimaEntry, taskId: string, home: string, env: Record<string, string>): number {
  const logs = path.join(home, 'logs')
  mkdirSync(logs, {recursive: true, mode: 0o700})
  const fd = openSync(path.join(logs, `${taskId}.log`), 'a', 0o600)
  try {
    const child = spawn(entry.execPath, [entry.script, 'task', 'run', taskId], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env,
      cwd: home,
    })
    child.unref()
    if (!child.pid) throw new MakimaError('INTERNAL', `could not start the runner for task ${taskId}`)
    return child.pid
  } finally {
    closeSync(fd)
  }
}
