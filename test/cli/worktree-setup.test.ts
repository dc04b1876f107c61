// Environment setup of a new worktree (issue 13) through the built CLI, real git and the REAL
// claude (scripted API): .worktreeinclude copies untracked/ignored files of the source checkout
// (never from outside it), .makima/setup or worktree.setupCommand runs before Claude Code with
// MAKIMA_WORKTREE, MAKIMA_SOURCE_REPO and MAKIMA_TASK_PORT, its failure or timeout fails the
// task (the worktree stays), teardown runs on cleanup, shareDirs are symlinked.
import {chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {useCleanup} from '../support/cli.js'
import {git} from '../support/git-fixtures.js'
import {repoWorld} from '../support/repo-world.js'
import {steps} from '../support/scripted-api.js'
import {toolResultsText} from '../support/task-helpers.js'

useCleanup()

/** Running (not gone, not a zombie waiting to be reaped). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

describe('worktree environment', () => {
  test('.worktreeinclude files are copied (nothing from outside), .makima/setup runs with the task env, claude gets the port', async () => {
    const w = await repoWorld(steps({bash: 'echo "PORT=$MAKIMA_TASK_PORT"; cat setup-env.txt'}, {text: 'ok'}))
    const repo = w.repo.dir
    writeFileSync(join(w.t.root, 'outside.env'), 'SECRET=outside\n')
    writeFileSync(join(repo, '.gitignore'), '*.env\nconfig/local.json\nsetup-env.txt\n')
    writeFileSync(join(repo, '.worktreeinclude'), '*.env\nconfig/local.json\n../outside.env\n/../../outside.env\nnotes.txt\n')
    mkdirSync(join(repo, '.makima'))
    writeFileSync(
      join(repo, '.makima', 'setup'),
      '#!/bin/sh\necho "setting up in $(pwd)"\nprintf "%s\\n" "PORT=$MAKIMA_TASK_PORT" "WT=$MAKIMA_WORKTREE" "SRC=$MAKIMA_SOURCE_REPO" "ID=$MAKIMA_TASK_ID" > setup-env.txt\necho done >&2\n',
    )
    chmodSync(join(repo, '.makima', 'setup'), 0o755)
    writeFileSync(join(repo, 'tracked.txt'), 'tracked\n')
    w.repo.git('add', '-f', '.gitignore', '.worktreeinclude', '.makima/setup', 'tracked.txt')
    w.repo.git('commit', '-q', '-m', 'setup')
    // Untracked and ignored files of the source checkout: copied when they match.
    writeFileSync(join(repo, '.env'), 'A=1\n')
    mkdirSync(join(repo, 'config'))
    writeFileSync(join(repo, 'config', 'local.json'), '{"local":true}\n')
    writeFileSync(join(repo, 'notes.txt'), 'untracked notes\n')
    writeFileSync(join(repo, 'other.txt'), 'not matched\n')
    // A traversal attempt: an ignored symlink matching *.env that points outside the repository.
    symlinkSync(join(w.t.root, 'outside.env'), join(repo, 'link.env'))
    // The source changes tracked.txt: the worktree keeps the committed one (never overwritten).
    writeFileSync(join(repo, 'tracked.txt'), 'changed in the checkout\n')

    const id = await w.spawnDetached(['--repo', repo, 'use the env'])
    const task = await w.waitCompleted(id)
    expect(task.state).toBe('completed')
    const wt = task.worktreePath as string
    expect(readFileSync(join(wt, '.env'), 'utf8')).toBe('A=1\n')
    expect(readFileSync(join(wt, 'config', 'local.json'), 'utf8')).toBe('{"local":true}\n')
    expect(readFileSync(join(wt, 'notes.txt'), 'utf8')).toBe('untracked notes\n')
    expect(existsSync(join(wt, 'other.txt'))).toBe(false)
    expect(existsSync(join(wt, 'link.env'))).toBe(false)
    expect(existsSync(join(wt, 'outside.env'))).toBe(false)
    expect(readFileSync(join(wt, 'tracked.txt'), 'utf8')).toBe('tracked\n')

    expect(task.taskPort).toBeGreaterThan(0)
    const setupEnv = readFileSync(join(wt, 'setup-env.txt'), 'utf8')
    expect(setupEnv).toContain(`PORT=${task.taskPort}\n`)
    expect(setupEnv).toContain(`WT=${wt}\n`)
    expect(setupEnv).toContain(`SRC=${repo}\n`)
    expect(setupEnv).toContain(`ID=${task.id}\n`)
    expect(toolResultsText(w.api)).toContain(`PORT=${task.taskPort}`)

    const logs = (await w.makima(['task', 'logs', id])).stdout
    expect(logs).toContain('Copied .env from the source checkout (.worktreeinclude)')
    expect(logs).toContain('Copied config/local.json')
    expect(logs).toMatch(/Skipped link\.env \(\.worktreeinclude\): .*points outside/)
    expect(logs).toContain('setup: setting up in')
    expect(logs).toContain('setup: done')
    expect(logs).toContain('Setup command `.makima/setup` finished')
    const shown = (await w.makima(['task', 'show', id])).stdout
    expect(shown).toMatch(new RegExp(`port\\s+${task.taskPort}`))
  }, 180_000)

  test('a failing setup fails the task with the command, its exit code and last lines; the worktree stays', async () => {
    const w = await repoWorld(steps({text: 'never reached'}), {extra: {MAKIMA_DAEMON_WORKTREE_SETUPCOMMAND: 'echo preparing; echo broken >&2; exit 3'}})
    const r = await w.makima(['task', 'spawn', '--detach', '--repo', w.repo.dir, 'fails in setup'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('setup command `echo preparing; echo broken >&2; exit 3` exited 3')
    const [task] = await w.json(['task', 'list', '--all'])
    expect(task.state).toBe('failed')
    expect(task.error).toBe('setup command `echo preparing; echo broken >&2; exit 3` exited 3: preparing\nbroken')
    expect(existsSync(task.worktreePath)).toBe(true)
    expect(w.api.calls.length).toBe(0)
  }, 120_000)

  test('a setup that outlives worktree.setupTimeoutSecs is killed with its process group and fails the task', async () => {
    const w = await repoWorld(steps({text: 'never reached'}), {
      extra: {MAKIMA_DAEMON_WORKTREE_SETUPTIMEOUTSECS: '1', MAKIMA_DAEMON_WORKTREE_SETUPCOMMAND: 'sleep 300 & echo $! > ../bg.pid; echo waiting; wait'},
    })
    const r = await w.makima(['task', 'spawn', '--detach', '--repo', w.repo.dir, 'times out in setup'])
    expect(r.code).toBe(1)
    const [task] = await w.json(['task', 'list', '--all'])
    expect(task.state).toBe('failed')
    expect(task.error).toMatch(/^setup command `sleep 300 & .*` timed out after 1s: waiting$/)
    const bg = Number(readFileSync(join(task.worktreePath, '..', 'bg.pid'), 'utf8'))
    expect(bg).toBeGreaterThan(0)
    for (let i = 0; i < 50 && alive(bg); i++) await new Promise((resolve) => setTimeout(resolve, 100))
    expect(alive(bg)).toBe(false)
  }, 120_000)

  test('two parallel tasks get distinct ports; --no-setup skips the setup; teardown runs on cleanup; shareDirs are symlinked', async () => {
    const marker = 'teardown-ran.txt'
    const w = await repoWorld(steps({text: 'ok'}), {
      extra: {
        MAKIMA_DAEMON_WORKTREE_SETUPCOMMAND: 'echo "$MAKIMA_TASK_PORT" > port.txt',
        MAKIMA_DAEMON_WORKTREE_TEARDOWNCOMMAND: `echo "$MAKIMA_WORKTREE" >> "$MAKIMA_SOURCE_REPO/../${marker}"`,
      },
    })
    writeFileSync(join(w.t.makimaHome, 'config.json'), JSON.stringify({worktree: {shareDirs: ['node_modules']}}))
    writeFileSync(join(w.repo.dir, '.gitignore'), 'node_modules/\nport.txt\n')
    w.repo.git('add', '.gitignore')
    w.repo.git('commit', '-q', '-m', 'ignore')
    mkdirSync(join(w.repo.dir, 'node_modules', 'dep'), {recursive: true})
    writeFileSync(join(w.repo.dir, 'node_modules', 'dep', 'index.js'), 'module.exports = 1\n')

    const [a, b] = await Promise.all([w.spawnDetached(['--repo', w.repo.dir, 'task a']), w.spawnDetached(['--repo', w.repo.dir, 'task b'])])
    const [ta, tb] = await Promise.all([w.waitCompleted(a), w.waitCompleted(b)])
    expect(ta.taskPort).toBeGreaterThan(0)
    expect(tb.taskPort).toBeGreaterThan(0)
    expect(ta.taskPort).not.toBe(tb.taskPort)
    expect(readFileSync(join(ta.worktreePath, 'port.txt'), 'utf8').trim()).toBe(String(ta.taskPort))
    expect(readFileSync(join(tb.worktreePath, 'port.txt'), 'utf8').trim()).toBe(String(tb.taskPort))
    expect(lstatSync(join(ta.worktreePath, 'node_modules')).isSymbolicLink()).toBe(true)
    expect(readFileSync(join(ta.worktreePath, 'node_modules', 'dep', 'index.js'), 'utf8')).toContain('module.exports')
    expect(git(ta.worktreePath, 'status', '--porcelain', '--untracked-files=all')).toBe('')

    const c = await w.spawnDetached(['--repo', w.repo.dir, '--no-setup', 'task c'])
    const tc = await w.waitCompleted(c)
    expect(existsSync(join(tc.worktreePath, 'port.txt'))).toBe(false)
    expect((await w.makima(['task', 'logs', c])).stdout).toContain('skipped (--no-setup)')

    const cleaned = await w.makima(['task', 'cleanup', a])
    expect(cleaned.code, cleaned.stderr).toBe(0)
    expect(existsSync(ta.worktreePath)).toBe(false)
    expect(readFileSync(join(w.repo.dir, '..', marker), 'utf8')).toBe(`${ta.worktreePath}\n`)
    // The shared directory itself is untouched by removing the worktree.
    expect(existsSync(join(w.repo.dir, 'node_modules', 'dep', 'index.js'))).toBe(true)
    expect((await w.makima(['task', 'cleanup', c])).code).toBe(0)
    expect(readFileSync(join(w.repo.dir, '..', marker), 'utf8')).toBe(`${ta.worktreePath}\n`)
  }, 240_000)
})
