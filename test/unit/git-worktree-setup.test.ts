// The git steps of making a task worktree (src/lib/git/ref-format.ts, refs.ts, worktrees.ts,
// patches.ts) that were merged or moved off git to make `task spawn` faster: each must answer as git would.
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, test} from 'vitest'

import {workingTreePatch} from '../../src/lib/git/patches.js'
import {validateBranchName} from '../../src/lib/git/ref-format.js'
import {defaultBranch, taskBranchName} from '../../src/lib/git/refs.js'
import {listWorktrees} from '../../src/lib/git/worktree-list.js'
import {ensureWorktree, worktreeHead, worktreeHealthy} from '../../src/lib/git/worktrees.js'
import {makeRepo, tempRoots} from '../support/git-fixtures.js'

const tempRoot = tempRoots('makima-wt-setup-')

/** Does `git check-ref-format --branch` accept the name? */
function gitAccepts(name: string): boolean {
  try {
    execFileSync('git', ['check-ref-format', '--branch', name], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

function makimaAccepts(name: string): boolean {
  try {
    validateBranchName(name)
    return true
  } catch {
    return false
  }
}

describe('validateBranchName', () => {
  test('accepts and rejects what git check-ref-format --branch does, without running git; stricter only where ref-format.ts says', () => {
    const names = [
      'main',
      'HEAD',
      'head',
      'a/HEAD',
      'HEAD/a',
      'feature/x-1_2',
      'a--b',
      '_',
      'x/',
      '/x',
      'a//b',
      'a..b',
      'a.lock',
      'a/.b',
      '.a',
      'a.',
      '@',
      'a@{b',
      'a b',
      'a~1',
      'a^',
      'a:b',
      'a?',
      'a*',
      'a[b',
      'a\\b',
      'refs/heads/x',
      'héllo',
      'x'.repeat(255),
      'x'.repeat(256),
      taskBranchName('0123abcd', 'Fix the thing'),
      taskBranchName('0123abcd', '!!!'),
    ]
    // and random names over an alphabet of plain and special characters
    const alphabet = 'aZ09_-/.@{}~^: *?[\\'
    let seed = 7
    for (let i = 0; i < 150; i++) {
      let name = ''
      const length = 1 + (i % 7)
      for (let j = 0; j < length; j++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31
        name += alphabet[seed % alphabet.length]
      }
      names.push(name)
    }
    const mismatches: string[] = []
    for (const name of names) {
      // stricter than git (ref-format.ts): a leading "-" (git would read it as an option), "@"
      // (git's name of HEAD, not a branch) and names over 255 bytes
      const expected = !name.startsWith('-') && name !== '@' && Buffer.byteLength(name) <= 255 && gitAccepts(name)
      if (makimaAccepts(name) !== expected) mismatches.push(`${JSON.stringify(name)}: git ${expected ? 'accepts' : 'rejects'}`)
    }
    expect(mismatches).toEqual([])
  })
})

describe('defaultBranch', () => {
  test("origin's HEAD first, else the checked-out branch, else undefined (detached)", async () => {
    const root = tempRoot()
    const withOrigin = makeRepo(root, {bare: true})
    withOrigin.git('branch', 'trunk')
    withOrigin.git('push', '-q', 'origin', 'trunk')
    withOrigin.git('remote', 'set-head', 'origin', 'trunk')
    expect(await defaultBranch(withOrigin.dir)).toBe('trunk')

    const local = makeRepo(root)
    local.git('checkout', '-q', '-b', 'dev')
    expect(await defaultBranch(local.dir)).toBe('dev')
    local.git('checkout', '-q', '--detach')
    expect(await defaultBranch(local.dir)).toBeUndefined()
  })
})

describe('ensureWorktree', () => {
  test('makes the worktree at the base commit, excludes .makima/ once, and refuses a missing base or an existing path', async () => {
    const root = tempRoot()
    const repo = makeRepo(root)
    writeFileSync(path.join(repo.dir, 'second.txt'), 'second\n')
    repo.git('add', 'second.txt')
    repo.git('commit', '-q', '-m', 'second')
    repo.git('tag', '-a', '-m', 'an annotated tag', 'v1', 'HEAD~1')
    const locksDir = path.join(root, 'locks')
    const create = (startAt: string, name: string, worktreePath: string) => ensureWorktree({repoPath: repo.dir, worktreePath, locksDir, startAt, branch: {name, mode: 'new'}})

    const first = path.join(root, 'wt', 'first')
    const {headSha} = await create('main', 'makima/aaaaaaaa-first', first)
    expect(headSha).toBe(repo.git('rev-parse', 'main'))
    expect(execFileSync('git', ['rev-parse', 'HEAD'], {cwd: first, encoding: 'utf8'}).trim()).toBe(headSha)

    // an annotated tag resolves to the commit it points at
    const second = path.join(root, 'wt', 'second')
    const tagged = await create('v1', 'makima/bbbbbbbb-second', second)
    expect(tagged.headSha).toBe(repo.git('rev-parse', 'main~1'))
    const exclude = readFileSync(path.join(repo.dir, '.git', 'info', 'exclude'), 'utf8')
    expect(exclude.split('\n').filter((line) => line === '/.makima/')).toHaveLength(1)

    for (const startAt of ['no-such-branch', '-x']) {
      await expect(create(startAt, 'makima/cccccccc-x', path.join(root, 'wt', 'x'))).rejects.toMatchObject({
        code: 'INVALID_INPUT',
        message: `"${startAt}" is not a commit in ${repo.dir}`,
      })
    }
    await expect(create('main', 'makima/dddddddd-y', first)).rejects.toMatchObject({code: 'INVALID_STATE'})
    await expect(create('main', '-b', path.join(root, 'wt', 'y'))).rejects.toMatchObject({code: 'INVALID_INPUT'})
    expect(repo.git('branch', '--list', 'makima/cccccccc-x', 'makima/dddddddd-y')).toBe('')
  })

  test('made again where one was: the branch as it is (reuse) or moved to the start (reset); detached into an empty directory', async () => {
    const root = tempRoot()
    const repo = makeRepo(root)
    const base = repo.head
    const locksDir = path.join(root, 'locks')
    const wt = path.join(root, 'wt', 'task')
    await ensureWorktree({repoPath: repo.dir, worktreePath: wt, locksDir, startAt: 'main', branch: {name: 'makima/t', mode: 'new'}})
    writeFileSync(path.join(wt, 'work.txt'), 'work\n')
    execFileSync('git', ['add', 'work.txt'], {cwd: wt})
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'work'], {cwd: wt})
    const tip = repo.git('rev-parse', 'makima/t')
    rmSync(wt, {recursive: true, force: true}) // the worktree is lost; git still has it registered

    const reused = await ensureWorktree({repoPath: repo.dir, worktreePath: wt, locksDir, startAt: base, branch: {name: 'makima/t', mode: 'reuse'}, recreate: true})
    expect(reused.headSha).toBe(tip)
    expect(readFileSync(path.join(wt, 'work.txt'), 'utf8')).toBe('work\n')

    rmSync(wt, {recursive: true, force: true})
    const reset = await ensureWorktree({repoPath: repo.dir, worktreePath: wt, locksDir, startAt: base, branch: {name: 'makima/t', mode: 'reset'}, recreate: true})
    expect([reset.headSha, repo.git('rev-parse', 'makima/t')]).toEqual([base, base])
    expect(existsSync(path.join(wt, 'work.txt'))).toBe(false)

    const empty = path.join(root, 'empty')
    mkdirSync(empty)
    const detached = await ensureWorktree({repoPath: repo.dir, worktreePath: empty, locksDir, startAt: tip, allowEmptyDir: true})
    expect(detached.headSha).toBe(tip)
    expect(execFileSync('git', ['status', '--porcelain', '--branch'], {cwd: empty, encoding: 'utf8'})).toMatch(/^## HEAD \(no branch\)/)
    expect((await listWorktrees(repo.dir)).map((w) => [w.path, w.branch]).sort()).toEqual([
      [empty, undefined],
      [repo.dir, 'main'],
      [wt, 'makima/t'],
    ])
  })
})

describe('worktreeHead and workingTreePatch probes', () => {
  test('the HEAD commit of a healthy worktree, undefined otherwise; a base that is no commit is refused', async () => {
    const root = tempRoot()
    const repo = makeRepo(root)
    expect(await worktreeHead(repo.dir)).toBe(repo.head)
    expect(await worktreeHealthy(repo.dir)).toBe(true)
    expect(await worktreeHead(path.join(root, 'missing'))).toBeUndefined()
    expect(await worktreeHead(null)).toBeUndefined()
    expect(await worktreeHealthy(root)).toBe(false)

    writeFileSync(path.join(repo.dir, 'README.md'), 'changed\n')
    expect((await workingTreePatch(repo.dir, repo.head)).toString()).toContain('+changed')
    for (const base of ['no-such-ref', '-x']) {
      await expect(workingTreePatch(repo.dir, base)).rejects.toMatchObject({code: 'INVALID_INPUT', message: `"${base}" is not a commit in ${repo.dir}`})
    }
    await expect(workingTreePatch(root, 'HEAD')).rejects.toMatchObject({code: 'INVALID_INPUT', message: `"HEAD" is not a commit in ${root}`})
  })
})
