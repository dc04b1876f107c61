// A fake `gh` for the `pr` completion action.
import {chmodSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

export interface FakeGh {
  /** the directory holding `gh`: put it first on the PATH of the process under test */
  bin: string
  /** where each call's argv is appended, NUL-separated */
  argvFile: string
  /** every argument it has been called with so far, in order */
  argv(): string[]
}

/**
 * Writes <root>/fake-bin/gh: the one fake allowed in this suite (docs/design.md "Testing: real
 * parts"), because the real GitHub CLI needs github.com. It records its argv (NUL-separated) in
 * <root>/gh-argv and prints a PR URL after a line of chatter, as `gh pr create` does.
 */
export function fakeGh(root: string): FakeGh {
  const bin = join(root, 'fake-bin')
  const argvFile = join(root, 'gh-argv')
  mkdirSync(bin)
  writeFileSync(
    join(bin, 'gh'),
    [
      '#!/bin/sh',
      '# FAKE gh (test/support/fake-gh.ts): records its argv and prints a PR URL.',
      `for a in "$@"; do printf '%s\\0' "$a" >> '${argvFile}'; done`,
      'echo "Creating pull request into main in example/repo"',
      'echo "https://github.com/example/repo/pull/7"',
      '',
    ].join('\n'),
  )
  chmodSync(join(bin, 'gh'), 0o755)
  return {bin, argvFile, argv: () => readFileSync(argvFile, 'utf8').split('\0').slice(0, -1)}
}
