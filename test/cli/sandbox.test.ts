// process.bubblewrap.enabled: the REAL claude under bwrap against a scripted API. The worktree is
// writable, the rest of the filesystem (the source repository, HOME) read-only, /tmp private, and
// the session still resumes/continues (~/.claude is writable). Without bwrap the task fails saying
// how to install it. Skipped (with the reason) when bwrap is not installed or cannot run here.
import {execFileSync, spawnSync} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {useCleanup} from '../support/cli.js'
import {steps} from '../support/scripted-api.js'
import {taskWorld, toolResultsText} from '../support/task-helpers.js'

useCleanup()

function bwrapProblem(): string | undefined {
  let bwrap: string
  try {
    bwrap = execFileSync('sh', ['-c', 'command -v bwrap'], {encoding: 'utf8'}).trim()
  } catch {
    return 'bwrap is not installed (apt-get install bubblewrap)'
  }
  const r = spawnSync(bwrap, ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp', '--', 'true'], {encoding: 'utf8'})
  return r.status === 0 ? undefined : `bwrap cannot create a sandbox here (${(r.stderr || `exit ${r.status}`).trim()}); it needs user namespaces or root`
}

const problem = bwrapProblem()
if (problem) console.warn(`sandbox tests skipped: ${problem}`)

describe.skipIf(problem !== undefined)('process.bubblewrap.enabled (real bwrap)', () => {
  test('claude runs under bwrap: the worktree is writable, the source repo and HOME are not, /tmp is private, sessions continue', async () => {
    let probe = 'true'
    // Each user message (the plan, then the follow-up) gets one Bash call running `probe`, then a text.
    const serverKey = 'mk-sandbox-server-key-0123456789'
    const w = await taskWorld((ctx) => (ctx.toolResults.length === 0 ? {bash: probe} : {text: 'sandboxed work done'}), {
      MAKIMA_DAEMON_PROCESS_BUBBLEWRAP_ENABLED: 'true',
      // in makima's own environment (not the task's): without the sandbox /proc/<pid>/environ shows it
      MAKIMA_DAEMON_SERVER_APIKEY: serverKey,
    })
    const keyFile = join(w.t.root, 'server-key')
    writeFileSync(keyFile, serverKey)
    w.t.env.MAKIMA_DAEMON_SERVER_APIKEYFILE = keyFile
    const outside = join(w.repo.dir, 'escaped.txt')
    const homeFile = join(w.t.home, 'escaped-home.txt')
    const hostTmp = join('/tmp', `makima-sandbox-probe-${process.pid}-${Date.now()}`)
    probe = [
      'echo inside > in-worktree.txt && echo WORKTREE-OK',
      `(echo out > '${outside}') 2>&1 || echo BLOCKED-REPO`,
      `(echo out > '${homeFile}') 2>&1 || echo BLOCKED-HOME`,
      `echo tmp > '${hostTmp}' && echo TMP-WRITTEN`,
      'git status --porcelain >/dev/null && echo GIT-OK',
      // makima's secrets and database are out of reach: masked files, a process namespace of its own
      `echo "KEYFILE-BYTES $(cat '${keyFile}' | wc -c)"`,
      'echo "DB-BYTES $(cat "$MAKIMA_HOME/makima.db" | wc -c)"',
      `echo "ENV-HITS $(cat /proc/[0-9]*/environ 2>/dev/null | tr '\\0' '\\n' | grep -c '^MAKIMA_DAEMON_SERVER_APIKEY=')"`,
    ].join('; ')
    const r = await w.makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'sandbox probe'], {timeoutMs: 90_000})
    expect(r.code, r.stderr).toBe(0)
    const task = JSON.parse(r.stdout)
    expect(task.state).toBe('completed')
    const results = toolResultsText(w.api)
    expect(results).toContain('WORKTREE-OK')
    expect(readFileSync(join(task.worktreePath, 'in-worktree.txt'), 'utf8')).toBe('inside\n')
    expect(results).toContain('BLOCKED-REPO')
    expect(results).toMatch(/Read-only file system/)
    expect(existsSync(outside)).toBe(false)
    expect(results).toContain('BLOCKED-HOME')
    expect(existsSync(homeFile)).toBe(false)
    expect(results).toContain('TMP-WRITTEN') // /tmp is writable inside...
    expect(existsSync(hostTmp)).toBe(false) // ...and private
    expect(results).toContain('GIT-OK')
    expect(results).toContain('KEYFILE-BYTES 0')
    expect(results).toContain('DB-BYTES 0')
    expect(results).toContain('ENV-HITS 0')
    expect(results).not.toContain(serverKey)

    // Claude Code kept its session (~/.claude writable): a follow-up message resumes it under bwrap.
    const before = w.api.calls.length
    probe = `echo second > second.txt && echo SECOND-OK; (echo out > '${outside}') 2>/dev/null || echo BLOCKED-AGAIN`
    const send = await w.makima(['task', 'send', task.id, 'one more thing'])
    expect(send.code, send.stderr).toBe(0)
    const done = await w.makima(['task', 'wait', task.id, '--json'], {timeoutMs: 90_000})
    expect(JSON.parse(done.stdout).state, done.stdout + done.stderr).toBe('completed')
    expect(w.api.calls.slice(before).some((c) => JSON.stringify(c.body.messages).includes('sandbox probe'))).toBe(true)
    expect(readFileSync(join(task.worktreePath, 'second.txt'), 'utf8')).toBe('second\n')
    expect(toolResultsText(w.api)).toContain('SECOND-OK')
    expect(toolResultsText(w.api)).toContain('BLOCKED-AGAIN') // the resumed run is sandboxed too
  })
})

describe('process.bubblewrap.enabled without bwrap', () => {
  test('the task fails saying how to install bubblewrap', async () => {
    const w = await taskWorld(steps({text: 'never asked'}), {MAKIMA_DAEMON_PROCESS_BUBBLEWRAP_ENABLED: 'true'})
    // A PATH with git and claude but no bwrap.
    const bin = join(w.t.root, 'bin-no-bwrap')
    execFileSync('mkdir', ['-p', bin])
    for (const tool of ['git', 'claude', 'node', 'sh']) {
      const found = execFileSync('sh', ['-c', `command -v ${tool}`], {encoding: 'utf8', env: w.t.env}).trim()
      execFileSync('ln', ['-s', found, join(bin, tool)])
    }
    w.t.env.PATH = bin
    const r = await w.makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'needs a sandbox'], {timeoutMs: 60_000})
    expect(r.code).toBe(1)
    const task = JSON.parse(r.stdout)
    expect(task.state).toBe('failed')
    expect(task.error).toContain('process.bubblewrap.enabled is set but bwrap was not found on PATH')
    expect(task.error).toContain('apt-get install bubblewrap')
    expect(w.api.calls).toHaveLength(0)
  })
})
