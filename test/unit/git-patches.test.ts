// workingTreePatch / applyPatch (src/lib/git/patches.ts) and the repository-source validators
// (src/lib/git/repo-source.ts) on real git repositories in a temp dir.
import {chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {gunzipSync} from 'node:zlib'
import {describe, expect, test} from 'vitest'

import {applyPatch, patchFiles, workingTreePatch} from '../../src/lib/git/patches.js'
import {cloneDirFor, newRepoDirFor, repoSourceKind, validateRepoUrl} from '../../src/lib/git/repo-source.js'
import {git, makeRepo, tempRoots} from '../support/git-fixtures.js'

const tempRoot = tempRoots('makima-patches-')

const BINARY = Buffer.from(Array.from({length: 3000}, (_, i) => (i * 7919) % 256))

describe('workingTreePatch + applyPatch', () => {
  test('carry every kind of uncommitted change to a clean checkout of the base, byte for byte', async () => {
    const root = tempRoot()
    const repo = makeRepo(root, {files: {'README.md': 'hello\n', 'gone.txt': 'bye\n', 'run.sh': 'echo hi\n', 'bin.dat': 'old\n', '.gitignore': '*.log\n'}})
    const other = path.join(root, 'other')
    repo.git('worktree', 'add', '-q', '--detach', other, 'HEAD')
    // a diff config that would break a naive patch
    repo.git('config', 'diff.noprefix', 'true')
    repo.git('config', 'apply.whitespace', 'error')

    writeFileSync(path.join(repo.dir, 'README.md'), 'hello\nchanged  \n') // trailing whitespace
    rmSync(path.join(repo.dir, 'gone.txt'))
    chmodSync(path.join(repo.dir, 'run.sh'), 0o755)
    writeFileSync(path.join(repo.dir, 'bin.dat'), BINARY)
    mkdirSync(path.join(repo.dir, 'new', 'deep'), {recursive: true})
    writeFileSync(path.join(repo.dir, 'new', 'deep', 'file.txt'), 'untracked\n')
    writeFileSync(path.join(repo.dir, 'staged.txt'), 'staged\n')
    repo.git('add', 'staged.txt')
    symlinkSync('README.md', path.join(repo.dir, 'link'))
    writeFileSync(path.join(repo.dir, 'debug.log'), 'ignored\n')
    const statusBefore = repo.git('status', '--porcelain')
    const indexBefore = readFileSync(path.join(repo.dir, '.git', 'index'))

    const patch = await workingTreePatch(repo.dir)
    expect(patch.length).toBeGreaterThan(0)
    expect(patchFiles(patch).sort()).toEqual(['README.md', 'bin.dat', 'gone.txt', 'link', 'new/deep/file.txt', 'run.sh', 'staged.txt'])
    // The source's index, HEAD and status did not move.
    expect(readFileSync(path.join(repo.dir, '.git', 'index')).equals(indexBefore)).toBe(true)
    expect(repo.git('status', '--porcelain')).toBe(statusBefore)
    expect(repo.git('rev-parse', 'HEAD')).toBe(repo.head)

    await applyPatch(other, patch)
    expect(readFileSync(path.join(other, 'README.md'), 'utf8')).toBe('hello\nchanged  \n')
    expect(existsSync(path.join(other, 'gone.txt'))).toBe(false)
    expect(statSync(path.join(other, 'run.sh')).mode & 0o111).not.toBe(0)
    expect(readFileSync(path.join(other, 'bin.dat')).equals(BINARY)).toBe(true)
    expect(readFileSync(path.join(other, 'new', 'deep', 'file.txt'), 'utf8')).toBe('untracked\n')
    expect(readFileSync(path.join(other, 'staged.txt'), 'utf8')).toBe('staged\n')
    expect(lstatSync(path.join(other, 'link')).isSymbolicLink()).toBe(true)
    expect(readlinkSync(path.join(other, 'link'))).toBe('README.md')
    expect(existsSync(path.join(other, 'debug.log'))).toBe(false)
    // Same content as the source's working tree (ignored file aside).
    expect(await workingTreePatch(other)).toEqual(patch)
  })

  test('the working tree wins over what the index holds: staged then edited again, staged then deleted', async () => {
    // workingTreePatch starts from a copy of the worktree's own index (so only changed files are hashed)
    const root = tempRoot()
    const repo = makeRepo(root, {files: {'a.txt': 'one\n', 'b.txt': 'two\n'}})
    const other = path.join(root, 'other')
    repo.git('worktree', 'add', '-q', '--detach', other, 'HEAD')
    writeFileSync(path.join(repo.dir, 'a.txt'), 'staged version\n')
    writeFileSync(path.join(repo.dir, 'c.txt'), 'staged new file\n')
    repo.git('add', 'a.txt', 'c.txt')
    writeFileSync(path.join(repo.dir, 'a.txt'), 'working tree version\n')
    rmSync(path.join(repo.dir, 'c.txt'))
    rmSync(path.join(repo.dir, 'b.txt'))

    const patch = await workingTreePatch(repo.dir)
    expect(patchFiles(patch).sort()).toEqual(['a.txt', 'b.txt'])
    await applyPatch(other, patch)
    expect(readFileSync(path.join(other, 'a.txt'), 'utf8')).toBe('working tree version\n')
    expect(existsSync(path.join(other, 'b.txt'))).toBe(false)
    expect(existsSync(path.join(other, 'c.txt'))).toBe(false)
  })

  test('gzip on request, recognised by applyPatch; a clean tree gives an empty patch; a patch that does not apply changes nothing', async () => {
    const root = tempRoot()
    const repo = makeRepo(root, {files: {'a.txt': 'one\n'}})
    expect((await workingTreePatch(repo.dir)).length).toBe(0)
    await applyPatch(repo.dir, Buffer.alloc(0)) // no-op

    writeFileSync(path.join(repo.dir, 'a.txt'), 'two\n')
    writeFileSync(path.join(repo.dir, 'b.txt'), 'new\n')
    const gz = await workingTreePatch(repo.dir, 'HEAD', {gzip: true})
    expect(gz[0]).toBe(0x1f)
    expect(gunzipSync(gz).toString()).toContain('diff --git a/a.txt b/a.txt')

    const other = path.join(root, 'other')
    repo.git('worktree', 'add', '-q', '--detach', other, 'HEAD')
    await applyPatch(other, gz)
    expect(readFileSync(path.join(other, 'a.txt'), 'utf8')).toBe('two\n')
    // Applying it again fails (b.txt exists, a.txt differs) and leaves the tree as it was.
    await expect(applyPatch(other, gz)).rejects.toMatchObject({code: 'FAILED'})
    expect(readFileSync(path.join(other, 'a.txt'), 'utf8')).toBe('two\n')
  })

  test('against an older base: the patch also holds the commits since, and applies on that base', async () => {
    const root = tempRoot()
    const repo = makeRepo(root, {files: {'a.txt': 'one\n'}})
    writeFileSync(path.join(repo.dir, 'a.txt'), 'committed\n')
    git(repo.dir, 'commit', '-q', '-am', 'second')
    writeFileSync(path.join(repo.dir, 'c.txt'), 'uncommitted\n')
    const patch = await workingTreePatch(repo.dir, repo.head)
    const other = path.join(root, 'other')
    repo.git('worktree', 'add', '-q', '--detach', other, repo.head)
    await applyPatch(other, patch, {index: true})
    expect(readFileSync(path.join(other, 'a.txt'), 'utf8')).toBe('committed\n')
    expect(git(other, 'status', '--porcelain')).toBe('M  a.txt\nA  c.txt')
    await expect(workingTreePatch(repo.dir, 'no-such-ref')).rejects.toMatchObject({code: 'INVALID_INPUT'})
  })
})

describe('repository sources', () => {
  test('kinds and URL validation', () => {
    expect(repoSourceKind('new://demo')).toBe('new')
    expect(repoSourceKind('https://github.com/a/b.git')).toBe('url')
    expect(repoSourceKind('git@github.com:a/b.git')).toBe('url')
    expect(repoSourceKind('file:///srv/x.git')).toBe('url')
    expect(repoSourceKind('~/src/app')).toBe('local')
    for (const ok of ['https://github.com/a/b.git', 'ssh://git@host:22/a/b', 'git@github.com:a/b.git', 'file:///srv/x.git']) expect(validateRepoUrl(ok)).toBe(ok)
    for (const bad of ['-https://x/y', 'https://x/y z', 'https://x/y\n', 'git@-oProxyCommand=x:y', 'ssh://-oProxyCommand=x/y', 'file:///', 'ext::sh -c x']) {
      expect(() => validateRepoUrl(bad), bad).toThrow(/invalid repository URL/)
    }
  })

  test('cache and new:// directories', () => {
    const a = cloneDirFor('https://github.com/acme/My.Repo.git', '/r')
    expect(a).toMatch(/^\/r\/my-repo-[0-9a-f]{10}$/)
    expect(cloneDirFor('https://github.com/acme/My.Repo.git', '/r')).toBe(a)
    expect(cloneDirFor('https://github.com/other/My.Repo.git', '/r')).not.toBe(a)
    expect(cloneDirFor('git@github.com:acme/tool.git', '/r')).toMatch(/^\/r\/tool-[0-9a-f]{10}$/)
    expect(newRepoDirFor('demo_1.x', '/r')).toBe('/r/new/demo_1.x')
    for (const bad of ['', '..', '.', 'a/b', 'a..b', '-x', 'a b', '../x']) expect(() => newRepoDirFor(bad, '/r'), bad).toThrow(/invalid repository name/)
  })
})
