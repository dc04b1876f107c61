// The merge library on real git without claude: a repository with a task worktree and branches
// made by plain git commands, and a real SQLite store. Covers what the CLI test does not reach:
// delete/modify conflicts, file names with glob characters, a merge started by plain git, an
// already merged branch, and the merge check rules for running subtasks and missing branches.
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, beforeEach, describe, expect, test} from 'vitest'

import {commitMerge, conflictedFiles, listBranchTips, mergeBranch, mergeInProgress, mergeSourceBranch, resolveConflictedFile} from '../../src/lib/git/merge.js'
import {Store} from '../../src/lib/store/store.js'
import type {TaskRecord} from '../../src/lib/store/task-record.js'
import {checkMergeComplete, listTaskBranches, mergeStatus, resolveMergeConflict, skipSubtaskMerge, startMerge} from '../../src/lib/tasks/merges.js'
import {gitWithEnv, isolatedGitEnv, makeRepo} from '../support/git-fixtures.js'
import {id, record} from '../support/store-fixtures.js'

const env = isolatedGitEnv()
/** the library runs git with process.env: it gets the test identity and no system or global config too */
const IDENTITY = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('GIT_')))
const saved: Record<string, string | undefined> = {}
let root: string
let repo: string
let wt: string
let store: Store
const g = (cwd: string, ...args: string[]) => gitWithEnv(env, cwd, ...args)

function commitOn(branch: string, files: Record<string, string | null>, message: string): void {
  g(repo, 'checkout', '-q', branch)
  for (const [file, content] of Object.entries(files)) {
    if (content === null) g(repo, 'rm', '-q', '--', file)
    else writeFileSync(join(repo, file), content)
  }
  g(repo, 'add', '-A')
  g(repo, 'commit', '-q', '-m', message)
  g(repo, 'checkout', '-q', 'main')
}

/** A task of this file's repository (store-fixtures' record with these defaults). */
function task(id: string, patch: Partial<TaskRecord>): TaskRecord {
  return record(id, {name: 'task', state: 'completed', plan: 'p', repoSource: repo, repoPath: repo, baseBranch: 'main', ...patch})
}
const uuid = id
const INT = uuid('aaaa0001')
const ctx = () => ({store, locksDir: join(root, 'locks')})

beforeAll(() => {
  for (const [k, v] of Object.entries(IDENTITY)) {
    saved[k] = process.env[k]
    process.env[k] = v
  }
})
afterAll(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
})

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'makima-merge-git-'))
  repo = makeRepo(root, {name: 'repo', env, files: {'keep.txt': 'keep\n', 'gone.txt': 'base\n', '*.txt': 'star base\n', 'b.txt': 'b base\n'}}).dir
  for (const b of ['makima/int', 'makima/del', 'makima/glob', 'makima/sub']) g(repo, 'branch', b)
  commitOn('makima/del', {'gone.txt': null}, 'delete gone.txt')
  commitOn('makima/glob', {'*.txt': 'star theirs\n', 'b.txt': 'b theirs\n'}, 'edit star and b')
  commitOn('makima/sub', {'sub.txt': 'sub\n'}, 'add sub.txt')
  commitOn('makima/int', {'gone.txt': 'changed on int\n', '*.txt': 'star ours\n', 'b.txt': 'b ours\n'}, 'int edits')
  wt = join(root, 'wt-int')
  g(repo, 'worktree', 'add', '-q', wt, 'makima/int')
  store = Store.open(join(root, 'makima.db'))
  store.tasks.insert(task(INT, {branch: 'makima/int', worktreePath: wt}))
  return () => {
    store.close()
    rmSync(root, {recursive: true, force: true})
  }
})

describe('merge library on real git', () => {
  test('a delete/modify conflict resolved with the deleting side removes the file', async () => {
    const outcome = await mergeBranch(wt, 'makima/del')
    expect(outcome).toMatchObject({kind: 'conflicts', conflicts: ['gone.txt']})
    await resolveConflictedFile(wt, 'gone.txt', 'theirs')
    expect(existsSync(join(wt, 'gone.txt'))).toBe(false)
    expect(await conflictedFiles(wt)).toEqual([])
    const sha = await commitMerge(wt, 'merge del, file deleted')
    expect(g(wt, 'rev-parse', 'HEAD')).toBe(sha)
    expect(g(wt, 'ls-files', 'gone.txt')).toBe('')
  })

  test('file names are literal pathspecs: resolving "*.txt" leaves b.txt conflicted', async () => {
    const outcome = await mergeBranch(wt, 'makima/glob')
    expect(outcome).toMatchObject({kind: 'conflicts', conflicts: ['*.txt', 'b.txt']})
    const result = await resolveMergeConflict(ctx(), INT, '*.txt', 'theirs')
    expect(result.conflicts).toEqual(['b.txt'])
    expect(readFileSync(join(wt, '*.txt'), 'utf8')).toBe('star theirs\n')
    expect(readFileSync(join(wt, 'b.txt'), 'utf8')).toContain('<<<<<<<')
    await expect(resolveMergeConflict(ctx(), INT, '*.txt', 'ours')).rejects.toMatchObject({code: 'INVALID_STATE'})
    await expect(resolveMergeConflict(ctx(), INT, 'b.txt', 'both')).rejects.toMatchObject({code: 'INVALID_INPUT'})
  })

  test('a merge started by plain git is seen with its source branch (by name or by sha) and can be finished by makima', async () => {
    const plainMerge = (rev: string) => expect(() => g(wt, 'merge', '--no-ff', '--no-edit', rev)).toThrow(/failed with 1/)
    plainMerge('makima/glob')
    expect(await mergeSourceBranch(wt)).toBe('makima/glob')
    g(wt, 'merge', '--abort')
    expect(await mergeSourceBranch(wt)).toBeUndefined()
    plainMerge(g(repo, 'rev-parse', 'makima/glob'))
    expect(await mergeStatus(store, INT)).toEqual({taskId: INT, inProgress: true, sourceBranch: 'makima/glob', conflictedFiles: ['*.txt', 'b.txt']})
    await resolveMergeConflict(ctx(), INT, '*.txt', 'ours')
    await resolveMergeConflict(ctx(), INT, 'b.txt', 'theirs')
    const sha = await commitMerge(wt, 'finished by makima')
    expect(g(wt, 'log', '-1', '--format=%H %s')).toBe(`${sha} finished by makima`)
    expect(readFileSync(join(wt, '*.txt'), 'utf8')).toBe('star ours\n')
    expect(readFileSync(join(wt, 'b.txt'), 'utf8')).toBe('b theirs\n')
  })

  test('an already merged branch is up to date: no new commit', async () => {
    const first = await mergeBranch(wt, 'makima/sub')
    expect(first).toMatchObject({kind: 'merged', upToDate: false})
    const again = await startMerge(ctx(), INT, 'makima/sub')
    expect(again).toMatchObject({success: true, commitSha: g(wt, 'rev-parse', 'HEAD')})
    expect(again.message).toMatch(/Already up to date/)
    expect(g(wt, 'rev-list', '--count', '--merges', 'HEAD')).toBe('1')
    const tips = await listBranchTips(wt, 'makima/', g(wt, 'rev-parse', 'HEAD'))
    expect(tips.find((b) => b.name === 'makima/sub')).toMatchObject({isMerged: true, subject: 'add sub.txt'})
    expect(tips.find((b) => b.name === 'makima/glob')).toMatchObject({isMerged: false})
  })

  test('bad and missing source branches are refused before git merge runs', async () => {
    const head = g(wt, 'rev-parse', 'HEAD')
    for (const bad of ['--upload-pack=x', '../x', 'a..b', 'x~1', 'HEAD^', '']) {
      await expect(mergeBranch(wt, bad)).rejects.toMatchObject({code: 'INVALID_INPUT'})
    }
    await expect(mergeBranch(wt, 'makima/nope')).rejects.toMatchObject({code: 'NOT_FOUND'})
    await expect(startMerge(ctx(), INT, 'makima/int')).rejects.toMatchObject({code: 'INVALID_INPUT'})
    expect(g(wt, 'rev-parse', 'HEAD')).toBe(head)
    expect(await mergeInProgress(wt)).toBe(false)
  })
})

describe('merge check rules', () => {
  test('running subtasks and missing branches are unmerged unless skipped; branches list their tasks', async () => {
    const done = uuid('bbbb0001')
    const running = uuid('bbbb0002')
    const missing = uuid('bbbb0003')
    const noBranch = uuid('bbbb0004')
    store.tasks.insert(task(done, {branch: 'makima/sub', parentTaskId: INT}))
    store.tasks.insert(task(running, {branch: 'makima/del', parentTaskId: INT, state: 'running'}))
    store.tasks.insert(task(missing, {branch: 'makima/deleted-already', parentTaskId: INT}))
    store.tasks.insert(task(noBranch, {parentTaskId: INT, repoPath: null}))
    await startMerge(ctx(), INT, 'makima/sub')
    await startMerge(ctx(), INT, 'makima/del').catch(() => undefined) // conflict: left in progress
    expect((await mergeStatus(store, INT)).sourceBranch).toBe('makima/del')
    g(wt, 'merge', '--abort')
    // make makima/del merged in git terms, while its task is still running
    g(wt, 'merge', '-q', '-s', 'ours', '--no-edit', 'makima/del')

    expect(await checkMergeComplete(store, INT)).toEqual({
      taskId: INT,
      canComplete: false,
      unmergedBranches: ['makima/deleted-already', 'makima/del'].sort(),
      mergedCount: 1,
      skippedCount: 0,
    })
    await skipSubtaskMerge(store, INT, running.slice(0, 8), 'still running, not needed')
    await skipSubtaskMerge(store, INT, missing, 'branch deleted')
    await skipSubtaskMerge(store, INT, missing, 'branch deleted (reason replaced)')
    expect(await checkMergeComplete(store, INT)).toEqual({taskId: INT, canComplete: true, unmergedBranches: [], mergedCount: 1, skippedCount: 2})

    const listed = await listTaskBranches(store, INT)
    expect(listed.branches.map((b) => b.name)).not.toContain('makima/int')
    expect(listed.branches.find((b) => b.name === 'makima/sub')).toMatchObject({taskId: done, isMerged: true})
    expect(listed.branches.find((b) => b.name === 'makima/glob')).toMatchObject({taskId: null, isMerged: false})
  })
})
