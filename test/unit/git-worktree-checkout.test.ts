// What a worktree made by ensureWorktree (src/lib/git/worktrees.ts, the one place worktrees are
// made) must hold, now that it checks out with parallel checkout (checkout-config.ts, issue 22):
// the branch at the base commit, the .makima exclusion, files with odd names and modes, symbolic
// links, a submodule's gitlink (not initialised: makima never inits submodules) and Git LFS
// pointer files (checked out as the pointers when git-lfs is not installed), all clean in git's eyes.
import {execFileSync} from 'node:child_process'
import {existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import path from 'node:path'
import {describe, expect, test} from 'vitest'

import {fillPooledWorktree} from '../../src/lib/git/worktree-pool.js'
import {ensureWorktree} from '../../src/lib/git/worktrees.js'
import {git, makeRepo, tempRoots} from '../support/git-fixtures.js'

const tempRoot = tempRoots('makima-wt-checkout-')

/** Names a checkout must keep as they are (a newline too where the filesystem allows it: Linux does). */
const ODD_NAMES = ['with space.txt', 'ünïcödé-文字.txt', '-leading-dash.txt', '--double', 'new\nline.txt', 'tab\there.txt', 'quote"and\'.txt', 'dir with space/inner file.txt']

/** A repository with 150 plain files (past git's 100-file threshold for parallel checkout) and every odd case. */
function oddRepo(root: string) {
  const files: Record<string, string> = {}
  for (let i = 0; i < 150; i++) files[`d${i % 5}/f${i}.txt`] = `file ${i}\n`
  for (const name of ODD_NAMES) files[name] = `content of ${JSON.stringify(name)}\n`
  files['run.sh'] = '#!/bin/sh\necho run\n'
  const repo = makeRepo(root, {files})
  execFileSync('chmod', ['+x', path.join(repo.dir, 'run.sh')])
  symlinkSync('d0/f0.txt', path.join(repo.dir, 'link-to-file'))
  symlinkSync('d1', path.join(repo.dir, 'link-to-dir'))
  symlinkSync('../outside/nowhere', path.join(repo.dir, 'dangling'))
  repo.git('add', '-A')
  repo.git('commit', '-q', '-m', 'modes and links')
  return repo
}

/** The git processes a function starts (GIT_TRACE2_EVENT), by command line. */
async function traced<T>(root: string, fn: () => Promise<T>): Promise<{result: T; commands: string[]}> {
  const trace = path.join(root, `trace-${Date.now()}.json`)
  const before = process.env.GIT_TRACE2_EVENT
  process.env.GIT_TRACE2_EVENT = trace
  try {
    const result = await fn()
    const commands = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((line) => line.includes('"event":"start"'))
      .map((line) => (JSON.parse(line) as {argv: string[]}).argv.slice(1).join(' '))
    return {result, commands}
  } finally {
    if (before === undefined) delete process.env.GIT_TRACE2_EVENT
    else process.env.GIT_TRACE2_EVENT = before
  }
}

describe('ensureWorktree: what the checkout keeps', () => {
  test('the branch at the base commit, parallel checkout, odd names, modes and symbolic links, .makima/ excluded, clean', async () => {
    const root = tempRoot()
    const repo = oddRepo(root)
    const base = repo.git('rev-parse', 'HEAD')
    writeFileSync(path.join(repo.dir, 'later.txt'), 'a commit after the base\n')
    repo.git('add', 'later.txt')
    repo.git('commit', '-q', '-m', 'later')
    const wt = path.join(root, 'wt', 'task')
    const {result, commands} = await traced(root, () =>
      ensureWorktree({repoPath: repo.dir, worktreePath: wt, locksDir: path.join(root, 'locks'), startAt: base, branch: {name: 'makima/aaaaaaaa-odd', mode: 'new'}}),
    )
    expect(result).toEqual({headSha: base, pooled: false})
    expect(git(wt, 'rev-parse', 'HEAD')).toBe(base)
    expect(git(wt, 'symbolic-ref', '--short', 'HEAD')).toBe('makima/aaaaaaaa-odd')
    expect(existsSync(path.join(wt, 'later.txt'))).toBe(false)
    const workers = Math.min(16, availableParallelism())
    const add = commands.find((c) => c.includes('worktree add'))
    expect(add).toContain(`checkout.workers=${workers}`)
    if (workers > 1) expect(commands.filter((c) => c === 'checkout--worker')).toHaveLength(workers)

    for (const name of ODD_NAMES) expect(readFileSync(path.join(wt, name), 'utf8')).toBe(`content of ${JSON.stringify(name)}\n`)
    expect(statSync(path.join(wt, 'run.sh')).mode & 0o111).not.toBe(0)
    expect(statSync(path.join(wt, 'd0', 'f0.txt')).mode & 0o111).toBe(0)
    expect(readlinkSync(path.join(wt, 'link-to-file'))).toBe('d0/f0.txt')
    expect(readlinkSync(path.join(wt, 'link-to-dir'))).toBe('d1')
    expect(lstatSync(path.join(wt, 'dangling')).isSymbolicLink()).toBe(true)
    expect(readdirSync(path.join(wt, 'd2'))).toHaveLength(30)
    expect(git(wt, 'status', '--porcelain', '--untracked-files=all', '--ignored')).toBe('')
    mkdirSync(path.join(wt, '.makima'))
    writeFileSync(path.join(wt, '.makima', 'orchestrate.sh'), 'x\n')
    expect(git(wt, 'status', '--porcelain', '--untracked-files=all')).toBe('')
    const exclude = readFileSync(path.join(repo.dir, '.git', 'info', 'exclude'), 'utf8')
    expect(exclude.split('\n').filter((line) => line === '/.makima/')).toHaveLength(1)
  })

  test("a repository's own checkout.workers is kept (no -c over it)", async () => {
    const root = tempRoot()
    const repo = oddRepo(root)
    repo.git('config', 'checkout.workers', '1')
    const wt = path.join(root, 'wt', 'one')
    const {commands} = await traced(root, () => ensureWorktree({repoPath: repo.dir, worktreePath: wt, locksDir: path.join(root, 'locks'), startAt: 'main', branch: {name: 'makima/b', mode: 'new'}}))
    expect(commands.find((c) => c.includes('worktree add'))).not.toContain('checkout.workers')
    expect(commands).not.toContain('checkout--worker')
    expect(git(wt, 'status', '--porcelain')).toBe('')
  })

  test('a submodule: the worktree gets its gitlink, not initialised (makima does not init submodules); a pooled one too', async () => {
    const root = tempRoot()
    const sub = makeRepo(root, {name: 'sub', files: {'inside.txt': 'inside the submodule\n'}})
    const repo = makeRepo(root, {name: 'super'})
    repo.git('-c', 'protocol.file.allow=always', 'submodule', 'add', '-q', sub.dir, 'vendor/sub')
    repo.git('commit', '-q', '-m', 'add a submodule')
    const wt = path.join(root, 'wt', 'super')
    await ensureWorktree({repoPath: repo.dir, worktreePath: wt, locksDir: path.join(root, 'locks'), startAt: 'main', branch: {name: 'makima/sub', mode: 'new'}})
    expect(git(wt, 'ls-files', '--stage', 'vendor/sub')).toBe(`160000 ${sub.head} 0\tvendor/sub`)
    expect(readFileSync(path.join(wt, '.gitmodules'), 'utf8')).toContain('path = vendor/sub')
    expect(statSync(path.join(wt, 'vendor', 'sub')).isDirectory()).toBe(true)
    expect(readdirSync(path.join(wt, 'vendor', 'sub'))).toEqual([])
    expect(git(wt, 'status', '--porcelain')).toBe('')

    // `git worktree move` takes a worktree whose submodule is not initialised
    const pool = {root: path.join(root, 'pool'), locksDir: path.join(root, 'locks')}
    await fillPooledWorktree(repo.dir, 'main', pool)
    const pooled = path.join(root, 'wt', 'pooled')
    const made = await ensureWorktree({repoPath: repo.dir, worktreePath: pooled, locksDir: pool.locksDir, startAt: 'main', branch: {name: 'makima/sub-pooled', mode: 'new'}, pool})
    expect(made.pooled).toBe(true)
    expect(git(pooled, 'ls-files', '--stage', 'vendor/sub')).toBe(`160000 ${sub.head} 0\tvendor/sub`)
    expect(git(pooled, 'status', '--porcelain')).toBe('')
  })

  test('Git LFS pointer files are checked out as the pointers when git-lfs is not installed, without a smudge failure', async () => {
    const root = tempRoot()
    const pointer = 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n'
    const files: Record<string, string> = {'.gitattributes': '*.bin filter=lfs diff=lfs merge=lfs -text\n', 'model.bin': pointer}
    for (let i = 0; i < 120; i++) files[`assets/a${i}.bin`] = pointer
    const repo = makeRepo(root, {files})
    const wt = path.join(root, 'wt', 'lfs')
    await ensureWorktree({repoPath: repo.dir, worktreePath: wt, locksDir: path.join(root, 'locks'), startAt: 'main', branch: {name: 'makima/lfs', mode: 'new'}})
    expect(readFileSync(path.join(wt, 'model.bin'), 'utf8')).toBe(pointer)
    expect(readFileSync(path.join(wt, 'assets', 'a119.bin'), 'utf8')).toBe(pointer)
    expect(git(wt, 'status', '--porcelain')).toBe('')
  })
})
