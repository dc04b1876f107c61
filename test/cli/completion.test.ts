// Completion actions end to end: the built CLI, the real `claude` against the scripted API, real
// git with bare remotes, and (for `pr` only) a fake `gh` (test/support/fake-gh.ts).
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {delimiter, join} from 'node:path'
import {afterEach, describe, expect, test} from 'vitest'

import {killAllSpawned, runCli} from '../support/cli.js'
import {cleanupAllTestEnvs, testEnv, type TestEnv} from '../support/env.js'
import {fakeGh} from '../support/fake-gh.js'
import {gitWithEnv, makeRepo, type Repo} from '../support/git-fixtures.js'
import {closeAllScriptedApis, startScriptedApi, steps} from '../support/scripted-api.js'

afterEach(async () => {
  killAllSpawned()
  await closeAllScriptedApis()
  cleanupAllTestEnvs()
})

interface World {
  t: TestEnv
  repo: Repo
  makima(args: string[]): Promise<{code: number | null; stdout: string; stderr: string}>
  git(cwd: string, ...args: string[]): string
  show(id: string): Promise<any>
}

/** A test env whose Claude runs `bash` once in the worktree and then answers `summary`. */
async function world(bash: string, opts: {bare?: boolean; summary?: string; extra?: Record<string, string>} = {}): Promise<World> {
  const api = await startScriptedApi(steps({bash}, {text: opts.summary ?? 'All done here'}))
  const t = testEnv({apiUrl: api.url, extra: opts.extra})
  const repo = makeRepo(t.root, {env: t.env, bare: opts.bare})
  const makima = (args: string[]) => runCli(args, {env: t.env, cwd: repo.dir, timeoutMs: 60_000})
  return {
    t,
    repo,
    makima,
    git: (cwd, ...args) => gitWithEnv(t.env, cwd, ...args),
    async show(id) {
      const r = await makima(['task', 'show', id, '--json'])
      expect(r.code, r.stderr).toBe(0)
      return JSON.parse(r.stdout)
    },
  }
}

function parseTask(stdout: string): any {
  return JSON.parse(stdout)
}

const COMMIT_IN_TASK = 'echo committed > committed.txt && git add committed.txt && git commit -q -m "task commit" && echo loose > loose.txt'

describe('completion action branch', () => {
  test('with no target pushes the committed and the uncommitted work to the source repository origin', async () => {
    const w = await world(COMMIT_IN_TASK, {bare: true})
    const r = await w.makima(['task', 'spawn', '--repo', w.repo.dir, '--completion-action', 'branch', '--json', 'write some files'])
    expect(r.code, r.stderr).toBe(0)
    const task = parseTask(r.stdout)
    expect(task.state).toBe('completed')
    expect(task.completionAction).toEqual({action: 'branch', ok: true, error: null, url: null})
    const remote = w.repo.remote!
    // the bare origin has the branch, with the committed file and the one makima committed
    expect(w.git(remote, 'show', `refs/heads/${task.branch}:committed.txt`)).toBe('committed')
    expect(w.git(remote, 'show', `refs/heads/${task.branch}:loose.txt`)).toBe('loose')
    expect(w.git(remote, 'log', '-1', '--format=%s', `refs/heads/${task.branch}`)).toBe(`makima: work of task ${task.shortId}`)
    expect(w.git(remote, 'rev-parse', `refs/heads/${task.branch}`)).toBe(w.git(task.worktreePath, 'rev-parse', 'HEAD'))
    expect(w.git(task.worktreePath, 'status', '--porcelain')).toBe('')
    // origin's main did not move
    expect(w.git(remote, 'rev-parse', 'refs/heads/main')).toBe(w.repo.head)

    // task clone: the worktree (history and an untracked file made since) into a new directory
    writeFileSync(join(task.worktreePath, 'after.txt'), 'after\n')
    const dest = join(w.t.root, 'copy')
    const clone = await w.makima(['task', 'clone', task.shortId, dest, '--json'])
    expect(clone.code, clone.stderr).toBe(0)
    expect(JSON.parse(clone.stdout)).toMatchObject({taskId: task.id, success: true, targetDir: dest})
    expect(w.git(dest, 'rev-parse', 'HEAD')).toBe(w.git(task.worktreePath, 'rev-parse', 'HEAD'))
    expect(w.git(dest, 'status', '--porcelain')).toBe('?? after.txt')
    const busy = await w.makima(['task', 'clone', task.shortId, dest])
    expect(busy.code).toBe(2)
    expect(busy.stderr).toContain(`${dest} already exists and is not empty`)
  })

  test('--completion-action without --repo and a --target-repo that does not exist are refused (exit 2), nothing recorded', async () => {
    const w = await world('true')
    const noRepo = await w.makima(['task', 'create', '--completion-action', 'merge', 'do it'])
    expect(noRepo.code).toBe(2)
    expect(noRepo.stderr).toMatch(/^Error: .*--completion-action merge needs --repo/m)
    const missing = join(w.t.root, 'no-such-repo')
    const badTarget = await w.makima(['task', 'create', '--repo', w.repo.dir, '--completion-action', 'merge', '--target-repo', missing, 'do it'])
    expect(badTarget.code).toBe(2)
    expect(badTarget.stderr).toContain(missing)
    const badBranch = await w.makima(['task', 'create', '--repo', w.repo.dir, '--completion-action', 'merge', '--target-branch', '--upload-pack=x', 'do it'])
    expect(badBranch.code).toBe(2)
    const list = await w.makima(['task', 'list', '--all', '--json'])
    expect(JSON.parse(list.stdout)).toEqual([])
  })
})

describe('completion action merge', () => {
  test('merges (no-ff) into the checked-out, clean target branch of a target repository', async () => {
    const w = await world('echo feature > feature.txt')
    const target = join(w.t.root, 'target')
    w.git(w.t.root, 'clone', '-q', w.repo.dir, target)
    const r = await w.makima(['task', 'spawn', '--repo', w.repo.dir, '--target-repo', target, '--completion-action', 'merge', '--json', 'add a feature'])
    expect(r.code, r.stderr).toBe(0)
    const task = parseTask(r.stdout)
    expect(task.completionAction).toMatchObject({action: 'merge', ok: true, error: null})
    const taskTip = w.git(w.repo.dir, 'rev-parse', `refs/heads/${task.branch}`)
    // a merge commit: first parent the old main, second the task branch
    expect(w.git(target, 'rev-parse', 'main^1')).toBe(w.repo.head)
    expect(w.git(target, 'rev-parse', 'main^2')).toBe(taskTip)
    // main is checked out in the target: its files followed (a fast-forward), nothing left dirty
    expect(readFileSync(join(target, 'feature.txt'), 'utf8')).toBe('feature\n')
    expect(w.git(target, 'status', '--porcelain')).toBe('')
    expect(existsSync(join(target, '.git', 'MERGE_HEAD'))).toBe(false)
    // no private refs left behind
    expect(w.git(target, 'for-each-ref', 'refs/makima')).toBe('')
    expect(w.git(w.repo.dir, 'for-each-ref', 'refs/makima/delivery')).toBe('')
  })

  test('is refused when the target branch moved on; the task stays completed; complete-action retries after the fix', async () => {
    const w = await world('echo feature > feature.txt')
    const target = join(w.t.root, 'target')
    w.git(w.t.root, 'clone', '-q', w.repo.dir, target)
    writeFileSync(join(target, 'moved.txt'), 'moved\n')
    w.git(target, 'add', 'moved.txt')
    w.git(target, 'commit', '-q', '-m', 'target moved on')
    const movedTip = w.git(target, 'rev-parse', 'main')

    const r = await w.makima(['task', 'spawn', '--repo', w.repo.dir, '--target-repo', target, '--completion-action', 'merge', '--json', 'add a feature'])
    expect(r.code).toBe(1)
    const task = parseTask(r.stdout)
    expect(task.state).toBe('completed')
    expect(task.completionAction.ok).toBe(false)
    expect(task.completionAction.error).toContain('target branch main has moved on since the task started: merge it into the task first')
    // the target is exactly as it was
    expect(w.git(target, 'rev-parse', 'main')).toBe(movedTip)
    expect(w.git(target, 'status', '--porcelain')).toBe('')
    expect(existsSync(join(target, 'feature.txt'))).toBe(false)
    // the work was committed on the task branch all the same
    expect(w.git(task.worktreePath, 'status', '--porcelain')).toBe('')
    const logs = await w.makima(['task', 'logs', task.id])
    expect(logs.stdout).toContain('has moved on')

    // a retry before the fix fails the same way: exit 1, payload with success false
    const again = await w.makima(['task', 'complete-action', task.shortId, '--json'])
    expect(again.code).toBe(1)
    expect(JSON.parse(again.stdout)).toMatchObject({success: false, message: expect.stringContaining('has moved on')})

    // the fix the message asks for: merge the target branch into the task
    w.git(task.worktreePath, 'pull', '-q', '--no-rebase', '--no-edit', target, 'main')
    const retry = await w.makima(['task', 'complete-action', task.shortId, '--json'])
    expect(retry.code, retry.stderr).toBe(0)
    const payload = JSON.parse(retry.stdout)
    expect(payload).toEqual({success: true, message: expect.stringContaining('Merged')})
    expect(w.git(target, 'rev-parse', 'main^1')).toBe(movedTip)
    expect(readFileSync(join(target, 'feature.txt'), 'utf8')).toBe('feature\n')
    expect(readFileSync(join(target, 'moved.txt'), 'utf8')).toBe('moved\n')
    const shown = await w.show(task.id)
    expect(shown.state).toBe('completed')
    expect(shown.completionAction).toEqual({action: 'merge', ok: true, error: null, url: null})
  })

  test('complete-action refuses a task that is not completed (exit 4) and bad flags (exit 2)', async () => {
    const w = await world('true')
    const created = await w.makima(['task', 'create', '--repo', w.repo.dir, '--completion-action', 'branch', '--json', 'later'])
    expect(created.code, created.stderr).toBe(0)
    const {taskId} = JSON.parse(created.stdout)
    const r = await w.makima(['task', 'complete-action', taskId])
    expect(r.code).toBe(4)
    expect(r.stderr).toMatch(/^Error: task \w+ is pending/m)
    const bad = await w.makima(['task', 'complete-action', taskId, '--action', 'explode'])
    expect(bad.code).toBe(2)
  })
})

describe('completion action pr', () => {
  test('pushes the branch, runs gh pr create and stores and prints the PR URL', async () => {
    const w = await world(COMMIT_IN_TASK, {bare: true, summary: 'Wrote committed.txt and loose.txt.'})
    const gh = fakeGh(w.t.root)
    w.t.env.PATH = [gh.bin, w.t.env.PATH].join(delimiter)

    const r = await w.makima(['task', 'spawn', '--repo', w.repo.dir, '--completion-action', 'pr', '--name', 'Add the files', 'write some files'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('Pull request created: https://github.com/example/repo/pull/7')
    const list = JSON.parse((await w.makima(['task', 'list', '--all', '--json'])).stdout)
    const task = list[0]
    expect(task.completionAction).toEqual({action: 'pr', ok: true, error: null, url: 'https://github.com/example/repo/pull/7'})
    // the branch reached origin before gh ran
    expect(w.git(w.repo.remote!, 'show', `refs/heads/${task.branch}:loose.txt`)).toBe('loose')
    const argv = gh.argv()
    expect(argv.slice(0, 2)).toEqual(['pr', 'create'])
    expect(argv).toContain(`--head=${task.branch}`)
    expect(argv).toContain('--base=main')
    expect(argv).toContain('--title=Add the files')
    const body = argv.find((a) => a.startsWith('--body='))!
    expect(body).toContain('write some files')
    expect(body).toContain('Wrote committed.txt and loose.txt.')
  })
})
