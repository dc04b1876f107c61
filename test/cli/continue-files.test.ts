// --continue-from and --files through the built CLI, real git and the REAL claude (scripted API):
// a continued task starts at the source task's HEAD with its uncommitted changes applied as a
// patch (the source is left as it was); --files copies paths from the parent's worktree, and a
// path that leaves it (.., absolute, a symlink pointing outside) is refused before anything exists.
import {existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {useCleanup} from '../support/cli.js'
import {git} from '../support/git-fixtures.js'
import {entries, repoWorld} from '../support/repo-world.js'
import {steps} from '../support/scripted-api.js'

useCleanup()

const BINARY = Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 0, 0x80, 10, 13, 0])

describe('--continue-from', () => {
  test("the new worktree has the source task's commits and its uncommitted changes; the source is unchanged", async () => {
    const w = await repoWorld(steps({text: 'ok'}))
    // A .gitignore in the base, so an ignored file can be shown not to travel.
    writeFileSync(join(w.repo.dir, '.gitignore'), '*.log\n')
    writeFileSync(join(w.repo.dir, 'gone.txt'), 'deleted by the source task\n')
    w.repo.git('add', '.gitignore', 'gone.txt')
    w.repo.git('commit', '-q', '-m', 'ignore logs')

    const sourceId = await w.spawnDetached(['--repo', w.repo.dir, '--name', 'source', 'the source task'])
    const source = await w.waitCompleted(sourceId)
    const src = source.worktreePath as string
    // Committed work on the source branch ...
    writeFileSync(join(src, 'committed.txt'), 'committed on the source branch\n')
    git(src, 'add', 'committed.txt')
    git(src, 'commit', '-q', '-m', 'source work')
    const sourceHead = git(src, 'rev-parse', 'HEAD')
    // ... and uncommitted: a tracked modification, a staged new file, untracked text and binary
    // files in a new directory, a deleted tracked file, and an ignored file (which stays behind).
    writeFileSync(join(src, 'README.md'), '# test repo\nmodified, not committed\n')
    writeFileSync(join(src, 'staged.txt'), 'staged only\n')
    git(src, 'add', 'staged.txt')
    mkdirSync(join(src, 'fresh'))
    writeFileSync(join(src, 'fresh', 'untracked.txt'), 'new untracked file\n')
    writeFileSync(join(src, 'fresh', 'blob.bin'), BINARY)
    rmSync(join(src, 'gone.txt'))
    writeFileSync(join(src, 'debug.log'), 'ignored\n')
    const statusBefore = git(src, 'status', '--porcelain', '--untracked-files=all')

    const nextId = await w.spawnDetached(['--continue-from', sourceId.slice(0, 8), '--name', 'next', 'continue the work'])
    const next = await w.waitCompleted(nextId)
    const dst = next.worktreePath as string
    expect(dst).not.toBe(src)
    expect(next).toMatchObject({state: 'completed', repoSource: w.repo.dir, baseBranch: 'main', baseSha: sourceHead})
    expect(next.branch).not.toBe(source.branch)
    // Committed: the new branch starts at the source's HEAD.
    expect(git(dst, 'rev-parse', 'HEAD')).toBe(sourceHead)
    expect(readFileSync(join(dst, 'committed.txt'), 'utf8')).toBe('committed on the source branch\n')
    // Uncommitted: applied to the working tree.
    expect(readFileSync(join(dst, 'README.md'), 'utf8')).toBe('# test repo\nmodified, not committed\n')
    expect(readFileSync(join(dst, 'staged.txt'), 'utf8')).toBe('staged only\n')
    expect(readFileSync(join(dst, 'fresh', 'untracked.txt'), 'utf8')).toBe('new untracked file\n')
    expect(readFileSync(join(dst, 'fresh', 'blob.bin')).equals(BINARY)).toBe(true)
    expect(existsSync(join(dst, 'gone.txt'))).toBe(false)
    expect(existsSync(join(dst, 'debug.log'))).toBe(false)
    const status = git(dst, 'status', '--porcelain', '--untracked-files=all')
      .split('\n')
      .map((l) => l.trim())
    expect(status.sort()).toEqual(['D gone.txt', 'M README.md', '?? fresh/blob.bin', '?? fresh/untracked.txt', '?? staged.txt'].sort())
    // The source worktree is exactly as it was: same HEAD, same status, same files.
    expect(git(src, 'rev-parse', 'HEAD')).toBe(sourceHead)
    expect(git(src, 'status', '--porcelain', '--untracked-files=all')).toBe(statusBefore)
    expect(readFileSync(join(src, 'debug.log'), 'utf8')).toBe('ignored\n')
    expect(readFileSync(join(src, 'fresh', 'blob.bin')).equals(BINARY)).toBe(true)
  }, 180_000)

  test('from a cleaned-up task: its committed work and the uncommitted work cleanup kept as its final snapshot', async () => {
    const w = await repoWorld(steps({text: 'ok'}))
    const sourceId = await w.spawnDetached(['--repo', w.repo.dir, '--name', 'source', 'the source task'])
    const src = (await w.waitCompleted(sourceId)).worktreePath as string
    writeFileSync(join(src, 'committed.txt'), 'committed\n')
    git(src, 'add', 'committed.txt')
    git(src, 'commit', '-q', '-m', 'source work')
    const sourceHead = git(src, 'rev-parse', 'HEAD')
    writeFileSync(join(src, 'README.md'), '# test repo\nleft uncommitted\n')
    writeFileSync(join(src, 'untracked.bin'), BINARY)
    const cleaned = await w.makima(['task', 'cleanup', sourceId])
    expect(cleaned.code, cleaned.stderr).toBe(0)
    expect(existsSync(src)).toBe(false)

    const nextId = await w.spawnDetached(['--continue-from', sourceId, '--name', 'next', 'continue the work'])
    const dst = (await w.waitCompleted(nextId)).worktreePath as string
    expect(git(dst, 'rev-parse', 'HEAD')).toBe(sourceHead)
    expect(readFileSync(join(dst, 'committed.txt'), 'utf8')).toBe('committed\n')
    expect(readFileSync(join(dst, 'README.md'), 'utf8')).toBe('# test repo\nleft uncommitted\n')
    expect(readFileSync(join(dst, 'untracked.bin')).equals(BINARY)).toBe(true)
  }, 180_000)

  test('refuses a task without a repository (exit 4) and an unknown task (exit 3); nothing recorded', async () => {
    const w = await repoWorld(steps({text: 'ok'}))
    const tempTask = (await w.makima(['task', 'create', 'works in a temp directory'])).stdout.trim()
    const before = await w.json(['task', 'list', '--all'])
    const noRepo = await w.makima(['task', 'create', '--continue-from', tempTask, 'continue it'])
    expect(noRepo.code, noRepo.stderr).toBe(4)
    expect(noRepo.stderr).toContain(tempTask.slice(0, 8))
    const unknown = await w.makima(['task', 'create', '--continue-from', 'abcdef12', 'continue it'])
    expect(unknown.code, unknown.stderr).toBe(3)
    expect(unknown.stderr).toContain('abcdef12')
    expect(await w.json(['task', 'list', '--all'])).toEqual(before)
  })
})

describe('--files with --parent', () => {
  test('copies files and directories from the parent worktree; refuses paths that leave it, recording nothing', async () => {
    const w = await repoWorld(steps({text: 'ok'}))
    const parentId = await w.spawnDetached(['--repo', w.repo.dir, '--name', 'parent', 'the parent task'])
    const parent = await w.waitCompleted(parentId)
    const p = parent.worktreePath as string
    mkdirSync(join(p, 'notes'))
    writeFileSync(join(p, 'notes', 'plan.md'), '# the plan\n')
    mkdirSync(join(p, 'data', 'deep'), {recursive: true})
    writeFileSync(join(p, 'data', 'deep', 'blob.bin'), BINARY)
    symlinkSync('/etc', join(p, 'data', 'etc-link')) // inside a copied directory: copied as a link
    symlinkSync('/etc/hostname', join(p, 'escape'))
    symlinkSync('notes/plan.md', join(p, 'inside-link'))

    // Refusals first: each exit 2 naming the path; no task, no worktree.
    const worktreesBefore = entries(join(w.t.makimaHome, 'worktrees'))
    const listBefore = await w.json(['task', 'list', '--all'])
    for (const bad of ['../../etc/passwd', 'escape', '/etc/passwd', 'notes/../../../etc/passwd', '.git', 'notes/plan.md,escape']) {
      const r = await w.makima(['task', 'spawn', '--detach', '--parent', parentId, '--repo', w.repo.dir, '--files', bad, 'never runs'])
      expect(r.code, `${bad}: ${r.stderr}`).toBe(2)
      expect(r.stderr.split('\n').filter((l) => l.startsWith('Error:'))).toHaveLength(1)
      expect(r.stderr).toContain(bad.split(',').pop())
    }
    const noParent = await w.makima(['task', 'spawn', '--detach', '--repo', w.repo.dir, '--files', 'notes/plan.md', 'never runs'])
    expect(noParent.code, noParent.stderr).toBe(2)
    expect(noParent.stderr).toContain('--parent')
    expect(await w.json(['task', 'list', '--all'])).toEqual(listBefore)
    expect(entries(join(w.t.makimaHome, 'worktrees'))).toEqual(worktreesBefore)
    expect(w.repo.git('branch', '--list', 'makima/*').split('\n')).toHaveLength(1) // the parent's only

    const childId = await w.spawnDetached(['--parent', parentId.slice(0, 6), '--repo', w.repo.dir, '--files', 'notes/plan.md,data,inside-link', 'the child task'])
    const child = await w.waitCompleted(childId)
    const c = child.worktreePath as string
    expect(child).toMatchObject({state: 'completed', parentTaskId: parentId})
    expect(readFileSync(join(c, 'notes', 'plan.md'), 'utf8')).toBe('# the plan\n')
    expect(readFileSync(join(c, 'data', 'deep', 'blob.bin')).equals(BINARY)).toBe(true)
    expect(lstatSync(join(c, 'data', 'etc-link')).isSymbolicLink()).toBe(true)
    expect(readlinkSync(join(c, 'data', 'etc-link'))).toBe('/etc')
    expect(readFileSync(join(c, 'inside-link'), 'utf8')).toBe('# the plan\n') // the content it points to
    expect(existsSync(join(c, 'escape'))).toBe(false)
    // The parent's worktree is only read.
    expect(readFileSync(join(p, 'notes', 'plan.md'), 'utf8')).toBe('# the plan\n')
  }, 180_000)

  test('a --files path gone from the parent by the time the task starts: the task fails naming it, and cleanup removes the worktree it had made', async () => {
    const w = await repoWorld(steps({text: 'ok'}))
    const parentId = await w.spawnDetached(['--repo', w.repo.dir, '--name', 'parent', 'the parent task'])
    const parent = await w.waitCompleted(parentId)
    writeFileSync(join(parent.worktreePath as string, 'handover.md'), 'notes\n')
    const {taskId} = await w.json(['task', 'create', '--parent', parentId, '--repo', w.repo.dir, '--files', 'handover.md', 'the child task'])
    rmSync(join(parent.worktreePath as string, 'handover.md'))
    const r = await w.makima(['task', 'start', taskId])
    expect(r.code, r.stderr).toBe(1)
    const child = await w.json(['task', 'show', taskId])
    expect(child.state).toBe('failed')
    expect(child.error).toContain('handover.md')
    expect(child.worktreePath).toBeTruthy()
    expect(existsSync(child.worktreePath)).toBe(true)
    const cleaned = await w.makima(['task', 'cleanup', taskId, '--delete-branch', '--force'])
    expect(cleaned.code, cleaned.stderr).toBe(0)
    expect(existsSync(child.worktreePath)).toBe(false)
    expect(w.repo.git('branch', '--list', child.branch)).toBe('')
  })
})
