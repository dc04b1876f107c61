// bwrap's argument list (src/lib/claude/sandbox.ts): everything read-only, private /tmp, and the
// layout's paths bound parents-first so the innermost rule wins.
import {describe, expect, test} from 'vitest'

import {bwrapArgs} from '../../src/lib/claude/sandbox.js'

/** [option, path] pairs of the binds after the fixed prefix, up to --chdir */
function binds(args: string[]): [string, string][] {
  const out: [string, string][] = []
  const end = args.indexOf('--chdir')
  for (let i = 10; i < end && args[i + 1] !== '/dev/null'; i += 3) {
    expect(args[i + 1]).toBe(args[i + 2]) // always bound at the same path
    out.push([args[i], args[i + 1]])
  }
  return out
}

describe('bwrapArgs', () => {
  test('own process namespace, read-only root, fresh /dev and /proc, private /tmp; then the command after --', () => {
    const args = bwrapArgs({worktree: '/w/task'}, '/usr/bin/claude', ['-p', '--verbose'])
    expect(args.slice(0, 10)).toEqual(['--unshare-pid', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'])
    expect(args.slice(-6)).toEqual(['--chdir', '/w/task', '--', '/usr/bin/claude', '-p', '--verbose'])
    expect(binds(args)).toEqual([['--bind', '/w/task']])
  })

  test('parents first: a writable worktree inside read-only MAKIMA_HOME, a writable git dir inside a read-only repo', () => {
    const args = bwrapArgs(
      {
        worktree: '/tmp/t/mh/worktrees/abc',
        home: '/tmp/t/home',
        readable: ['/tmp/t/mh', '/tmp/t/repo', '/tmp/t/repo/.git'],
        writable: ['/tmp/t/repo/.git/worktrees/abc'],
      },
      'claude',
      [],
    )
    expect(binds(args)).toEqual([
      ['--ro-bind-try', '/tmp/t/home'],
      ['--ro-bind-try', '/tmp/t/mh'],
      ['--ro-bind-try', '/tmp/t/repo'],
      ['--bind-try', '/tmp/t/home/.claude'],
      ['--bind-try', '/tmp/t/home/.claude.json'],
      ['--ro-bind-try', '/tmp/t/repo/.git'],
      ['--bind', '/tmp/t/mh/worktrees/abc'],
      ['--bind-try', '/tmp/t/repo/.git/worktrees/abc'],
    ])
  })

  test('masked files are covered by an empty read-only file, after every bind', () => {
    const args = bwrapArgs({worktree: '/h/mh/worktrees/x', readable: ['/h/mh'], masked: ['/h/mh/makima.db', '/etc/makima-key']}, 'claude', [])
    const chdir = args.indexOf('--chdir')
    expect(args.slice(chdir - 6, chdir)).toEqual(['--ro-bind', '/dev/null', '/h/mh/makima.db', '--ro-bind', '/dev/null', '/etc/makima-key'])
  })

  test('a read-only repository inside a writable MAKIMA_HOME (orchestrators) stays read-only', () => {
    const b = binds(bwrapArgs({worktree: '/h/mh/worktrees/x', writable: ['/h/mh'], readable: ['/h/mh/repos/r']}, 'claude', []))
    expect(b).toEqual([
      ['--bind-try', '/h/mh'],
      ['--ro-bind-try', '/h/mh/repos/r'],
      ['--bind', '/h/mh/worktrees/x'],
    ])
  })
})
