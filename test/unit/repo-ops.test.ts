// The repository operations of the daemon's commands (src/lib/tasks/workspace/repo-ops.ts) on real git
// repositories: a task record pointing at a real worktree of a real repository (with a bare
// origin where it matters).
import {mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync, existsSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'

import {record} from '../support/store-fixtures.js'
import {loadConfig} from '../../src/lib/config/load.js'
import type {TaskRecord} from '../../src/lib/store/task-record.js'
import {checkTargetExists, cloneWorktree, createBranch, createPR, mergeTaskToTarget, MAX_REPO_FILE_BYTES, readRepoFile} from '../../src/lib/tasks/workspace/repo-ops.js'
import type {DeliveryContext} from '../../src/lib/tasks/delivery/delivery.js'
import {git, isolatedGitEnv, makeRepo, tempRoots, type Repo} from '../support/git-fixtures.js'

// The library runs git with this process's environment: make it the isolated test identity.
const savedEnv = {...process.env}
beforeAll(() => {
  for (const key of Object.keys(process.env)) if (key.startsWith('GIT_')) delete process.env[key]
  Object.assign(process.env, isolatedGitEnv())
})
afterAll(() => {
  for (const key of Object.keys(process.env)) delete process.env[key]
  Object.assign(process.env, savedEnv)
})

const tempRoot = tempRoots('makima-repo-ops-')

interface Fixture {
  root: string
  repo: Repo
  worktree: string
  task: TaskRecord
  ctx: DeliveryContext
  progress: string[]
}

/** A completed task: a worktree of a fresh repository on its own branch, made from main. */
function fixture(opts: {bare?: boolean; patch?: Partial<TaskRecord>} = {}): Fixture {
  const root = tempRoot()
  const repo = makeRepo(root, {bare: opts.bare, name: 'source'})
  const branch = 'makima/abcd1234-fixture-task'
  const worktree = join(root, 'worktree')
  git(repo.dir, 'worktree', 'add', '-q', '-b', branch, worktree, 'main')
  const now = new Date().toISOString()
  const task = record('abcd1234-0000-4000-8000-000000000000', {
    ...{name: 'Fixture task', state: 'completed', plan: 'add things', repoSource: repo.dir, repoPath: repo.dir, baseBranch: 'main', branch},
    ...{worktreePath: worktree, baseSha: repo.head, exitCode: 0, startedAt: now, completedAt: now},
    ...opts.patch,
  })
  const progress: string[] = []
  const makimaHome = join(root, 'makima-home')
  mkdirSync(makimaHome)
  const ctx: DeliveryContext = {config: loadConfig({env: {MAKIMA_HOME: makimaHome}}), env: process.env, progress: (m) => progress.push(m)}
  return {root, repo, worktree, task, ctx, progress}
}

/** Some work in the worktree: one commit, then an uncommitted change and an untracked file. */
function doWork(f: Fixture): string {
  writeFileSync(join(f.worktree, 'committed.txt'), 'committed\n')
  git(f.worktree, 'add', 'committed.txt')
  git(f.worktree, 'commit', '-q', '-m', 'task commit')
  writeFileSync(join(f.worktree, 'README.md'), '# changed\n')
  writeFileSync(join(f.worktree, 'untracked.txt'), 'untracked\n')
  return git(f.worktree, 'rev-parse', 'HEAD')
}

async function rejection(promise: Promise<unknown>): Promise<{code?: string; message: string}> {
  try {
    await promise
  } catch (error) {
    return error as {code?: string; message: string}
  }
  throw new Error('expected a rejection')
}

describe('readRepoFile', () => {
  test('reads a file of the repository', async () => {
    const f = fixture()
    mkdirSync(join(f.repo.dir, 'docs'))
    writeFileSync(join(f.repo.dir, 'docs', 'plan.md'), 'the plan ✓\n')
    expect(await readRepoFile(f.repo.dir, 'docs/plan.md')).toEqual({filePath: 'docs/plan.md', content: 'the plan ✓\n', success: true})
    expect(await readRepoFile(f.repo.dir, 'docs/../README.md')).toMatchObject({success: true, content: '# test repo\n'})
  })

  test('accepts a repository path starting with ~', async () => {
    const f = fixture()
    const home = process.env.HOME
    process.env.HOME = f.root
    try {
      expect(await readRepoFile('~/source', 'README.md')).toMatchObject({success: true, content: '# test repo\n'})
    } finally {
      process.env.HOME = home
    }
  })

  test('refuses ../../etc/passwd, absolute paths, symlinks pointing outside and .git (INVALID_INPUT)', async () => {
    const f = fixture()
    for (const bad of ['../../etc/passwd', '/etc/passwd', 'docs/../../x']) {
      const err = await rejection(readRepoFile(f.repo.dir, bad))
      expect(err.code, bad).toBe('INVALID_INPUT')
      expect(err.message).toContain(bad)
    }
    symlinkSync('/etc/hostname', join(f.repo.dir, 'hostname'))
    const outside = join(f.root, 'outside-secret.txt')
    writeFileSync(outside, 'secret\n')
    mkdirSync(join(f.repo.dir, 'sub'))
    symlinkSync(outside, join(f.repo.dir, 'sub', 'secret'))
    symlinkSync(f.root, join(f.repo.dir, 'up'))
    for (const bad of ['hostname', 'sub/secret', 'up/outside-secret.txt']) {
      const err = await rejection(readRepoFile(f.repo.dir, bad))
      expect(err.code, bad).toBe('INVALID_INPUT')
    }
    const gitConfig = await rejection(readRepoFile(f.repo.dir, '.git/config'))
    expect(gitConfig.code).toBe('INVALID_INPUT')
    // .git as any component: a nested one, the repository's own as the root, a link into it
    mkdirSync(join(f.repo.dir, 'sub', '.git'), {recursive: true})
    writeFileSync(join(f.repo.dir, 'sub', '.git', 'x'), 'x\n')
    symlinkSync('.git/config', join(f.repo.dir, 'config-link'))
    for (const [root, file] of [
      [f.repo.dir, 'sub/.git/x'],
      [join(f.repo.dir, '.git'), 'config'],
      [f.repo.dir, 'config-link'],
      [f.worktree, '.git'],
    ]) {
      const err = await rejection(readRepoFile(root, file))
      expect(err.code, `${root} ${file}`).toBe('INVALID_INPUT')
      expect(err.message).toContain('.git')
    }
  })

  test('a missing file, a directory and a file over the size cap are answered with success: false', async () => {
    const f = fixture()
    expect(await readRepoFile(f.repo.dir, 'nope.txt')).toMatchObject({success: false, error: expect.stringContaining('does not exist')})
    mkdirSync(join(f.repo.dir, 'dir'))
    expect(await readRepoFile(f.repo.dir, 'dir')).toMatchObject({success: false, error: expect.stringContaining('not a regular file')})
    writeFileSync(join(f.repo.dir, 'big.txt'), Buffer.alloc(MAX_REPO_FILE_BYTES + 1, 'a'))
    const big = await readRepoFile(f.repo.dir, 'big.txt')
    expect(big.success).toBe(false)
    expect(big.content).toBeUndefined()
    expect(await readRepoFile(join(f.root, 'missing-repo'), 'README.md')).toMatchObject({success: false})
  })
})

describe('createBranch', () => {
  test('refuses names git would read as options or that check-ref-format rejects, and changes nothing', async () => {
    const f = fixture()
    const before = git(f.repo.dir, 'for-each-ref', '--format=%(refname)')
    for (const bad of ['--upload-pack=x', '../x', 'a..b', '-b', 'x y', 'x.lock']) {
      const err = await rejection(createBranch(f.task, bad))
      expect(err.code, bad).toBe('INVALID_INPUT')
      expect(err.message).toContain(bad)
    }
    const badFrom = await rejection(createBranch(f.task, 'good', '--upload-pack=x'))
    expect(badFrom.code).toBe('INVALID_INPUT')
    const missingFrom = await rejection(createBranch(f.task, 'good', 'no-such-branch'))
    expect(missingFrom.code).toBe('INVALID_INPUT')
    expect(git(f.repo.dir, 'for-each-ref', '--format=%(refname)')).toBe(before)
  })

  test('creates a branch at the worktree HEAD or a given sha without switching the worktree; an existing one is not moved', async () => {
    const f = fixture()
    const head = doWork(f)
    expect(await createBranch(f.task, 'feature/x')).toEqual({taskId: f.task.id, success: true, branchName: 'feature/x', message: expect.stringContaining('created')})
    expect(git(f.repo.dir, 'rev-parse', 'refs/heads/feature/x')).toBe(head)
    expect(git(f.worktree, 'symbolic-ref', '--short', 'HEAD')).toBe(f.task.branch)
    expect((await createBranch(f.task, 'from-sha', f.repo.head)).success).toBe(true)
    expect(git(f.repo.dir, 'rev-parse', 'refs/heads/from-sha')).toBe(f.repo.head)
    const again = await createBranch(f.task, 'from-sha', head)
    expect(again).toMatchObject({success: false, message: expect.stringContaining('already exists')})
    expect(git(f.repo.dir, 'rev-parse', 'refs/heads/from-sha')).toBe(f.repo.head)
  })
})

describe('mergeTaskToTarget', () => {
  test('squash: one commit on the origin main with the committed and the uncommitted work', async () => {
    const f = fixture({bare: true})
    doWork(f)
    const result = await mergeTaskToTarget(f.task, undefined, true, f.ctx)
    expect(result).toMatchObject({taskId: f.task.id, success: true})
    const remote = f.repo.remote!
    expect(result.commitSha).toBe(git(remote, 'rev-parse', 'refs/heads/main'))
    // a single parent: the old main
    expect(git(remote, 'rev-list', '--parents', '-n', '1', 'main').split(' ')).toEqual([result.commitSha, f.repo.head])
    expect(git(remote, 'log', '-1', '--format=%s', 'main')).toBe('Fixture task')
    expect(git(remote, 'show', 'main:committed.txt')).toBe('committed')
    expect(git(remote, 'show', 'main:untracked.txt')).toBe('untracked')
    expect(git(remote, 'show', 'main:README.md')).toBe('# changed')
    // makima committed what was left on the task branch; the worktree is clean
    expect(git(f.worktree, 'log', '-1', '--format=%s')).toBe('makima: work of task abcd1234')
    expect(git(f.worktree, 'status', '--porcelain')).toBe('')
    expect(git(f.repo.dir, 'for-each-ref', 'refs/makima')).toBe('')
  })

  test('refuses when the target branch moved on, leaving it untouched', async () => {
    const f = fixture({bare: true})
    doWork(f)
    const other = join(f.root, 'other')
    git(f.root, 'clone', '-q', f.repo.remote!, other)
    writeFileSync(join(other, 'moved.txt'), 'moved\n')
    git(other, 'add', 'moved.txt')
    git(other, 'commit', '-q', '-m', 'moved on')
    git(other, 'push', '-q', 'origin', 'main')
    const moved = git(f.repo.remote!, 'rev-parse', 'main')
    const result = await mergeTaskToTarget(f.task, 'main', false, f.ctx)
    expect(result.success).toBe(false)
    expect(result.message).toContain('target branch main has moved on since the task started: merge it into the task first')
    expect(git(f.repo.remote!, 'rev-parse', 'main')).toBe(moved)
  })

  test('into the own repository (no origin): refused while main is checked out with changes, then a fast-forward of the clean checkout', async () => {
    const f = fixture()
    const head = doWork(f)
    writeFileSync(join(f.repo.dir, 'README.md'), 'local edit\n')
    const refused = await mergeTaskToTarget(f.task, undefined, false, f.ctx)
    expect(refused).toMatchObject({success: false, message: expect.stringContaining('uncommitted changes')})
    expect(git(f.repo.dir, 'rev-parse', 'main')).toBe(f.repo.head)
    expect(readFileSync(join(f.repo.dir, 'README.md'), 'utf8')).toBe('local edit\n')

    git(f.repo.dir, 'checkout', '-q', '--', 'README.md')
    const merged = await mergeTaskToTarget(f.task, undefined, false, f.ctx)
    expect(merged.success, merged.message).toBe(true)
    const taskTip = git(f.repo.dir, 'rev-parse', `refs/heads/${f.task.branch}`)
    expect(taskTip).not.toBe(head) // the uncommitted work was committed on top
    expect(git(f.repo.dir, 'rev-list', '--parents', '-n', '1', 'main').split(' ')).toEqual([merged.commitSha, f.repo.head, taskTip])
    expect(readFileSync(join(f.repo.dir, 'untracked.txt'), 'utf8')).toBe('untracked\n')
    expect(git(f.repo.dir, 'status', '--porcelain')).toBe('')
    // merging again has nothing to do
    expect(await mergeTaskToTarget(f.task, undefined, false, f.ctx)).toMatchObject({success: true, message: expect.stringContaining('Nothing to merge')})
  })

  test('refuses an active task and a bad target branch before doing anything', async () => {
    const f = fixture({patch: {state: 'running'}})
    writeFileSync(join(f.worktree, 'wip.txt'), 'wip\n')
    expect((await rejection(mergeTaskToTarget(f.task, undefined, false, f.ctx))).code).toBe('INVALID_STATE')
    const done = {...f.task, state: 'completed' as const}
    expect((await rejection(mergeTaskToTarget(done, '--upload-pack=x', false, f.ctx))).code).toBe('INVALID_INPUT')
    expect(git(f.worktree, 'status', '--porcelain')).toBe('?? wip.txt')
  })
})

describe('createPR', () => {
  test('without gh on PATH: success false telling to install GitHub CLI', async () => {
    const f = fixture({bare: true})
    doWork(f)
    const emptyBin = join(f.root, 'empty-bin')
    mkdirSync(emptyBin)
    const result = await createPR(f.task, 'A title', undefined, 'main', {...f.ctx, env: {...process.env, PATH: emptyBin}})
    expect(result).toMatchObject({taskId: f.task.id, success: false, message: expect.stringContaining('install GitHub CLI')})
    expect(result.prUrl).toBeUndefined()
  })
})

describe('cloneWorktree and checkTargetExists', () => {
  test('clones history, branch and uncommitted work (modified, untracked, deleted) into a new directory', async () => {
    const f = fixture()
    const head = doWork(f)
    unlinkSync(join(f.worktree, 'committed.txt'))
    const dest = join(f.root, 'copies', 'clone')
    expect(checkTargetExists(f.task.id, dest)).toEqual({taskId: f.task.id, exists: false, targetDir: dest})
    const result = await cloneWorktree(f.task, dest)
    expect(result).toMatchObject({taskId: f.task.id, success: true, targetDir: dest})
    expect(checkTargetExists(f.task.id, dest).exists).toBe(true)
    expect(git(dest, 'rev-parse', 'HEAD')).toBe(head)
    expect(git(dest, 'symbolic-ref', '--short', 'HEAD')).toBe(f.task.branch)
    expect(git(dest, 'log', '--format=%s')).toBe('task commit\ninitial commit')
    // git-fixtures' git() trims, so the first line loses its leading space
    const status = 'M README.md\n D committed.txt\n?? untracked.txt'
    expect(git(dest, 'status', '--porcelain')).toBe(status)
    expect(readFileSync(join(dest, 'README.md'), 'utf8')).toBe('# changed\n')
    expect(existsSync(join(dest, 'committed.txt'))).toBe(false)
    // the worktree itself is untouched
    expect(git(f.worktree, 'status', '--porcelain')).toBe(status)
  })

  test('refuses a non-empty target directory and leaves it alone; ~ is expanded', async () => {
    const f = fixture()
    const dest = join(f.root, 'busy')
    mkdirSync(dest)
    writeFileSync(join(dest, 'keep.txt'), 'keep\n')
    const err = await rejection(cloneWorktree(f.task, dest))
    expect(err.code).toBe('INVALID_INPUT')
    expect(err.message).toContain(dest)
    expect(readFileSync(join(dest, 'keep.txt'), 'utf8')).toBe('keep\n')
    const home = process.env.HOME
    process.env.HOME = f.root
    try {
      expect(checkTargetExists(f.task.id, '~/busy')).toEqual({taskId: f.task.id, exists: true, targetDir: dest})
    } finally {
      process.env.HOME = home
    }
  })
})
