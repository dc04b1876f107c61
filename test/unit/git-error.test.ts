// git's failures read in one place (src/lib/git/git-error.ts): the kind of each, and its message.
import {describe, expect, test} from 'vitest'

import {classifyGitError, GitError, gitMessage} from '../../src/lib/git/git-error.js'

describe('classifyGitError and gitMessage', () => {
  test('each kind from what git prints', () => {
    const cases: Array<[string, string]> = [
      ['fatal: not a git repository (or any of the parent directories): .git', 'not-a-repository'],
      ["fatal: couldn't find remote ref refs/heads/nope", 'missing-remote-ref'],
      ['fatal: invalid reference: nope', 'bad-revision'],
      ["fatal: 'a..b' is not a valid branch name", 'bad-name'],
      ['error: Your local changes to the following files would be overwritten by merge:\n\ta.txt\nPlease commit your changes or stash them before you merge.\nAborting', 'local-changes'],
      ['error: patch failed: a.txt:1\nerror: a.txt: patch does not apply', 'conflict'],
      [" ! [rejected]        main -> main (fetch first)\nerror: failed to push some refs to '/r'", 'rejected'],
      ["fatal: Unable to create '/r/.git/index.lock': File exists.", 'locked'],
      ["fatal: Authentication failed for 'https://example.com/r.git/'", 'auth'],
      ["fatal: '/nonexistent/r.git' does not appear to be a git repository\nfatal: Could not read from remote repository.", 'missing-repository'],
      ['fatal: something else entirely', 'failed'],
    ]
    for (const [stderr, kind] of cases) expect([stderr, classifyGitError(stderr)]).toEqual([stderr, kind])
  })

  test('the fatal/error lines with the files listed under them; hints and "Aborting" left out', () => {
    expect(gitMessage('error: Your local changes to the following files would be overwritten by merge:\n\ta.txt\n\tb.txt\nPlease commit your changes or stash them before you merge.\nAborting')).toBe(
      'Your local changes to the following files would be overwritten by merge: a.txt b.txt',
    )
    expect(gitMessage("Cloning into 'x'...\nfatal: 'r' does not appear to be a git repository\nfatal: Could not read from remote repository.\n\nPlease make sure")).toBe(
      "'r' does not appear to be a git repository; Could not read from remote repository.",
    )
    expect(gitMessage('hint: use --force\nsomething happened\n')).toBe('something happened')
    expect(gitMessage('')).toBe('no message from git')
    expect(gitMessage('  \n', 'exit code 1')).toBe('exit code 1')
  })

  test('GitError: INVALID_INPUT for bad input (no repository, a ref that is not there), FAILED otherwise; named by its subcommand', () => {
    const bad = new GitError(['rev-parse', 'x'], 128, 'fatal: not a git repository (or any of the parent directories): .git\n')
    expect([bad.code, bad.kind, bad.message]).toEqual(['INVALID_INPUT', 'not-a-repository', 'git rev-parse failed: not a git repository (or any of the parent directories): .git'])
    const failed = new GitError(['-c', 'user.name=x', 'commit', '-m', 'm'], 1, '')
    expect([failed.code, failed.kind, failed.message]).toEqual(['FAILED', 'failed', 'git commit failed: exit code 1'])
  })
})
