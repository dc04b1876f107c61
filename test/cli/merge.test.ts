// The merge family through the built CLI, on real git (a repository with a bare origin) and real
// task worktrees made by the REAL claude against a scripted API. Two subtasks of one integration
// task commit different content to the same line of shared.txt on their branches; integration
// tasks then merge them: clean merge, conflict, resolve ours/theirs, commit, abort, skip, check,
// and every refusal of bad input. Each CLI call is a new process: the state lives in git and the
// store.
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {beforeAll, describe, expect, test} from 'vitest'

import {runCli, useCleanup} from '../support/cli.js'
import {testEnv, type TestEnv} from '../support/env.js'
import {gitWithEnv, makeRepo, type Repo} from '../support/git-fixtures.js'
import {byPrompt, startScriptedApi, steps} from '../support/scripted-api.js'

useCleanup({scope: 'all'})

const BRANCH_KEYS = ['isMerged', 'lastCommit', 'lastCommitMessage', 'name', 'taskId']

interface Task {
  id: string
  shortId: string
  branch: string
  worktreePath: string
}

let t: TestEnv
let repo: Repo
let parent: Task // the integration task the two subtasks belong to
let alpha: Task
let beta: Task

function makima(args: string[]) {
  return runCli(args, {env: t.env, cwd: t.root, timeoutMs: 60_000})
}

async function json(args: string[], expectedCode = 0): Promise<any> {
  const r = await makima([...args, '--json'])
  expect(r.code, `makima ${args.join(' ')} --json\n${r.stdout}\n${r.stderr}`).toBe(expectedCode)
  return JSON.parse(r.stdout) // throws unless stdout is exactly one JSON value
}

function gitIn(cwd: string, ...args: string[]): string {
  return gitWithEnv(t.env, cwd, ...args)
}

function hasMergeHead(wt: string): boolean {
  try {
    execFileSync('git', ['rev-parse', '--quiet', '--verify', 'MERGE_HEAD'], {cwd: wt, env: t.env, stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

function read(wt: string, file: string): string {
  return readFileSync(join(wt, file), 'utf8')
}

/** `task spawn --detach` (on the repository unless `repo` is false); returns the task id. */
async function startTask(plan: string, extra: string[] = [], repoFlag = true): Promise<string> {
  const r = await makima(['task', 'spawn', '--detach', ...(repoFlag ? ['--repo', repo.dir] : []), ...extra, plan])
  expect(r.code, r.stderr).toBe(0)
  return r.stdout.trim()
}

/** `task wait` until it completed; returns the task object. */
async function finished(id: string): Promise<Task> {
  const w = await makima(['task', 'wait', id])
  expect(w.code, `${w.stdout}\n${w.stderr}`).toBe(0)
  return json(['task', 'show', id])
}

// Integration tasks, one per test, made in beforeAll (concurrently: each is a real claude run).
const INTEGRATIONS = ['theirs', 'ours', 'abort', 'refusals', 'paths', 'dirty', 'gone'] as const
const integration = {} as Record<(typeof INTEGRATIONS)[number], Task>
let noRepoTask: Task

beforeAll(async () => {
  const api = await startScriptedApi(
    byPrompt(
      {
        'SUBTASK-ALPHA': steps(
          {bash: "echo alpha > shared.txt && echo 'from alpha' > alpha-only.txt && git add -A && git commit -q -m 'alpha edits shared.txt'"},
          {text: 'alpha committed'},
        ),
        'SUBTASK-BETA': steps(
          {bash: "echo beta > shared.txt && echo 'from beta' > beta-only.txt && git add -A && git commit -q -m 'beta edits shared.txt'"},
          {text: 'beta committed'},
        ),
      },
      {text: 'ok'},
    ),
  )
  t = testEnv({apiUrl: api.url, extra: {MAKIMA_DAEMON_PROCESS_MAXCONCURRENTTASKS: '20'}})
  repo = makeRepo(t.root, {env: t.env, bare: true, files: {'README.md': '# merge test\n', 'shared.txt': 'base\n'}})
  parent = await finished(await startTask('INTEGRATION parent of the two subtasks', ['--name', 'integration']))
  const ids = await Promise.all([
    startTask('SUBTASK-ALPHA: change shared.txt', ['--name', 'alpha', '--parent', parent.id]),
    startTask('SUBTASK-BETA: change shared.txt', ['--name', 'beta', '--parent', parent.id]),
    startTask('INTEGRATION without a repository', [], false),
    ...INTEGRATIONS.map((name) => startTask(`INTEGRATION ${name}`, ['--name', name])),
  ])
  const tasks = await Promise.all(ids.map((id) => finished(id)))
  ;[alpha, beta, noRepoTask] = tasks
  INTEGRATIONS.forEach((name, i) => {
    integration[name] = tasks[i + 3]
    expect(existsSync(integration[name].worktreePath)).toBe(true)
  })
  // The subtasks committed on their own branches; the source repository is untouched.
  expect(gitIn(repo.dir, 'log', '-1', '--format=%s', alpha.branch)).toBe('alpha edits shared.txt')
  expect(gitIn(repo.dir, 'log', '-1', '--format=%s', beta.branch)).toBe('beta edits shared.txt')
  expect(read(repo.dir, 'shared.txt')).toBe('base\n')
}, 240_000)

describe('merge start / status / resolve / commit', () => {
  test('clean merge commits at once; a conflicting one stays in progress until resolved with theirs and committed', async () => {
    const j = integration.theirs

    // merge branches: both subtask branches with their tasks, not merged; the task's own branch is not listed.
    const listed = await json(['merge', 'branches', j.shortId])
    expect(Object.keys(listed).sort()).toEqual(['branches', 'taskId'])
    expect(listed.taskId).toBe(j.id)
    const byName = new Map(listed.branches.map((b: any) => [b.name, b]))
    expect(byName.has(j.branch)).toBe(false)
    expect(Object.keys(byName.get(alpha.branch) as object).sort()).toEqual(BRANCH_KEYS)
    expect(byName.get(alpha.branch)).toEqual({
      name: alpha.branch,
      taskId: alpha.id,
      isMerged: false,
      lastCommit: gitIn(repo.dir, 'rev-parse', alpha.branch),
      lastCommitMessage: 'alpha edits shared.txt',
    })
    expect(byName.get(beta.branch)).toMatchObject({taskId: beta.id, isMerged: false, lastCommitMessage: 'beta edits shared.txt'})

    // First subtask: clean, committed at once as a merge commit (two parents).
    const first = await json(['merge', 'start', j.shortId, alpha.branch])
    expect(first).toMatchObject({taskId: j.id, success: true})
    expect(first.commitSha).toBe(gitIn(j.worktreePath, 'rev-parse', 'HEAD'))
    expect(gitIn(j.worktreePath, 'rev-parse', 'HEAD^2')).toBe(gitIn(repo.dir, 'rev-parse', alpha.branch))
    expect(read(j.worktreePath, 'shared.txt')).toBe('alpha\n')
    expect(hasMergeHead(j.worktreePath)).toBe(false)

    // Second subtask: conflict on shared.txt; exit 1, the merge is left in progress.
    const second = await json(['merge', 'start', j.shortId, beta.branch], 1)
    expect(second).toMatchObject({taskId: j.id, success: false, conflicts: ['shared.txt']})
    expect(second.message).toContain('shared.txt')
    expect(second.commitSha).toBeUndefined()
    expect(hasMergeHead(j.worktreePath)).toBe(true)

    const status = await json(['merge', 'status', j.shortId])
    expect(status).toEqual({taskId: j.id, inProgress: true, sourceBranch: beta.branch, conflictedFiles: ['shared.txt']})

    // Refusals while in progress: another start, a file that is not conflicted, a commit with conflicts left.
    const again = await makima(['merge', 'start', j.shortId, alpha.branch])
    expect(again.code).toBe(4)
    expect(again.stderr).toContain(`a merge is already in progress (from ${beta.branch})`)
    const notConflicted = await makima(['merge', 'resolve', j.shortId, 'beta-only.txt', '--strategy', 'ours'])
    expect(notConflicted.code).toBe(4)
    expect(notConflicted.stderr).toMatch(/"beta-only.txt" is not conflicted/)
    const early = await makima(['merge', 'commit', j.shortId, '-m', 'too early'])
    expect(early.code).toBe(4)
    expect(early.stderr).toContain('shared.txt')
    expect(hasMergeHead(j.worktreePath)).toBe(true)

    // Resolve with theirs: the second subtask's content.
    const resolved = await json(['merge', 'resolve', j.shortId, 'shared.txt', '--strategy', 'theirs'])
    expect(resolved).toMatchObject({taskId: j.id, success: true, conflicts: []})
    expect(read(j.worktreePath, 'shared.txt')).toBe('beta\n')
    expect(await json(['merge', 'status', j.shortId])).toEqual({taskId: j.id, inProgress: true, sourceBranch: beta.branch, conflictedFiles: []})

    const committed = await json(['merge', 'commit', j.shortId, '-m', 'Merge beta, keeping its shared.txt'])
    expect(committed).toMatchObject({taskId: j.id, success: true})
    expect(committed.commitSha).toBe(gitIn(j.worktreePath, 'rev-parse', 'HEAD'))
    expect(gitIn(j.worktreePath, 'log', '-1', '--format=%s')).toBe('Merge beta, keeping its shared.txt')
    expect(gitIn(j.worktreePath, 'rev-parse', 'HEAD^2')).toBe(gitIn(repo.dir, 'rev-parse', beta.branch))
    expect(gitIn(j.worktreePath, 'log', '--merges', '--format=%s', j.branch).split('\n')).toHaveLength(2)
    expect(read(j.worktreePath, 'beta-only.txt')).toBe('from beta\n')
    expect(read(j.worktreePath, 'alpha-only.txt')).toBe('from alpha\n')
    expect(gitIn(j.worktreePath, 'status', '--porcelain')).toBe('')
    expect(await json(['merge', 'status', j.shortId])).toEqual({taskId: j.id, inProgress: false, sourceBranch: null, conflictedFiles: []})

    const after = new Map((await json(['merge', 'branches', j.shortId])).branches.map((b: any) => [b.name, b.isMerged]))
    expect(after.get(alpha.branch)).toBe(true)
    expect(after.get(beta.branch)).toBe(true)
  }, 120_000)

  test('resolved with ours (human output): the task keeps the first subtask\'s line and gains the rest of the branch', async () => {
    const k = integration.ours
    const first = await makima(['merge', 'start', k.shortId, alpha.branch])
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout).toContain(`Merged ${alpha.branch}`)
    expect(first.stdout).toContain(`commit ${gitIn(k.worktreePath, 'rev-parse', 'HEAD')}`)

    const second = await makima(['merge', 'start', k.shortId, beta.branch])
    expect(second.code).toBe(1)
    expect(second.stdout).toContain('conflict: shared.txt')
    expect(second.stderr).toContain('merge resolve')

    const status = await makima(['merge', 'status', k.shortId])
    expect(status.code).toBe(0)
    expect(status.stdout).toContain(`Merging ${beta.branch}`)
    expect(status.stdout).toContain('conflict: shared.txt')

    const resolved = await makima(['merge', 'resolve', k.shortId, './shared.txt', '--strategy', 'ours'])
    expect(resolved.code, resolved.stderr).toBe(0)
    expect(resolved.stdout).toContain('no conflicts left')
    const committed = await makima(['merge', 'commit', k.shortId, '-m', 'Merge beta, keeping ours'])
    expect(committed.code, committed.stderr).toBe(0)
    expect(read(k.worktreePath, 'shared.txt')).toBe('alpha\n')
    expect(read(k.worktreePath, 'beta-only.txt')).toBe('from beta\n')
    expect(gitIn(k.worktreePath, 'log', '-1', '--format=%s%n%P')).toBe(
      `Merge beta, keeping ours\n${gitIn(k.worktreePath, 'rev-parse', 'HEAD^1')} ${gitIn(repo.dir, 'rev-parse', beta.branch)}`,
    )
    expect(hasMergeHead(k.worktreePath)).toBe(false)
    expect((await makima(['merge', 'status', k.shortId])).stdout).toContain('No merge in progress.')
  }, 120_000)

  test('abort restores the state before merge start; with nothing in progress abort, commit and resolve are refused', async () => {
    const l = integration.abort
    await json(['merge', 'start', l.shortId, alpha.branch])
    const before = gitIn(l.worktreePath, 'rev-parse', 'HEAD')
    await json(['merge', 'start', l.shortId, beta.branch], 1)
    expect(read(l.worktreePath, 'shared.txt')).toContain('<<<<<<<')

    const aborted = await json(['merge', 'abort', l.shortId])
    expect(aborted).toMatchObject({taskId: l.id, success: true})
    expect(aborted.message).toContain(beta.branch)
    expect(gitIn(l.worktreePath, 'rev-parse', 'HEAD')).toBe(before)
    expect(hasMergeHead(l.worktreePath)).toBe(false)
    expect(read(l.worktreePath, 'shared.txt')).toBe('alpha\n')
    expect(existsSync(join(l.worktreePath, 'beta-only.txt'))).toBe(false)
    expect(gitIn(l.worktreePath, 'status', '--porcelain')).toBe('')
    expect((await json(['merge', 'status', l.shortId])).inProgress).toBe(false)

    for (const args of [['abort'], ['commit', '-m', 'nothing'], ['resolve', 'shared.txt', '--strategy', 'ours']]) {
      const r = await makima(['merge', args[0], l.shortId, ...args.slice(1)])
      expect(r.code, `merge ${args.join(' ')}\n${r.stderr}`).toBe(4)
      expect(r.stderr).toContain('no merge is in progress')
    }
    expect(gitIn(l.worktreePath, 'rev-parse', 'HEAD')).toBe(before)
  }, 120_000)
})

describe('merge skip / check', () => {
  test('check fails and lists the unmerged branch until it is merged or skipped with a reason', async () => {
    const initial = await json(['merge', 'check', parent.shortId], 1)
    expect(initial).toEqual({taskId: parent.id, canComplete: false, unmergedBranches: [alpha.branch, beta.branch].sort(), mergedCount: 0, skippedCount: 0})

    await json(['merge', 'start', parent.shortId, alpha.branch])
    const human = await makima(['merge', 'check', parent.shortId])
    expect(human.code).toBe(1)
    expect(human.stdout).toContain(beta.branch)
    expect(human.stdout).not.toContain(alpha.branch)
    expect(await json(['merge', 'check', parent.shortId], 1)).toEqual({
      taskId: parent.id,
      canComplete: false,
      unmergedBranches: [beta.branch],
      mergedCount: 1,
      skippedCount: 0,
    })

    // Refused skips change nothing: an unknown task (3), the task itself or a task that is not its subtask (2).
    expect((await makima(['merge', 'skip', parent.shortId, 'ffff0000', '--reason', 'x'])).code).toBe(3)
    const self = await makima(['merge', 'skip', parent.shortId, parent.shortId, '--reason', 'x'])
    expect(self.code).toBe(2)
    const notSub = await makima(['merge', 'skip', alpha.shortId, beta.shortId, '--reason', 'x'])
    expect(notSub.code).toBe(2)
    expect(notSub.stderr).toContain('is not a subtask of')
    expect((await makima(['merge', 'skip', parent.shortId, beta.shortId])).code).toBe(2) // --reason is required
    expect((await json(['merge', 'check', parent.shortId], 1)).skippedCount).toBe(0)

    const skipped = await json(['merge', 'skip', parent.shortId, beta.shortId, '--reason', 'superseded by alpha'])
    expect(skipped).toMatchObject({taskId: parent.id, success: true})
    expect(skipped.message).toContain('superseded by alpha')

    expect(await json(['merge', 'check', parent.shortId])).toEqual({
      taskId: parent.id,
      canComplete: true,
      unmergedBranches: [],
      mergedCount: 1,
      skippedCount: 1,
    })
    const ok = await makima(['merge', 'check', parent.shortId])
    expect(ok.code).toBe(0)
    expect(ok.stdout).toContain('Can complete: 1 merged, 1 skipped')
  }, 120_000)
})

describe('refusals', () => {
  test('bad source branches: exit 2 naming the value, nothing changed; unknown branch 3; own branch 2', async () => {
    const m = integration.refusals
    const head = gitIn(m.worktreePath, 'rev-parse', 'HEAD')
    const refs = gitIn(repo.dir, 'for-each-ref', '--format=%(refname) %(objectname)')
    for (const bad of ['--upload-pack=x', '../x', 'a..b', '-x', 'makima/a b']) {
      const r = await makima(['merge', 'start', m.shortId, '--json', '--', bad])
      expect(r.code, `${bad}: ${r.stderr}`).toBe(2)
      expect(r.stderr).toContain(bad)
      expect(JSON.parse(r.stdout).error).toMatchObject({code: 'INVALID_INPUT'})
      expect(JSON.parse(r.stdout).error.message).toContain(bad)
    }
    // Without `--` oclif takes --upload-pack=x for a flag and refuses it just the same.
    const flag = await makima(['merge', 'start', m.shortId, '--upload-pack=x'])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toContain('--upload-pack=x')

    const missing = await makima(['merge', 'start', m.shortId, 'makima/does-not-exist'])
    expect(missing.code).toBe(3)
    expect(missing.stderr).toContain('makima/does-not-exist')
    const own = await makima(['merge', 'start', m.shortId, m.branch])
    expect(own.code).toBe(2)

    expect(gitIn(m.worktreePath, 'rev-parse', 'HEAD')).toBe(head)
    expect(hasMergeHead(m.worktreePath)).toBe(false)
    expect(gitIn(m.worktreePath, 'status', '--porcelain')).toBe('')
    expect(gitIn(repo.dir, 'for-each-ref', '--format=%(refname) %(objectname)')).toBe(refs)
  }, 120_000)

  test('resolve refuses files outside the worktree (2) during a merge and leaves it untouched; bad strategy 2', async () => {
    const n = integration.paths
    await json(['merge', 'start', n.shortId, alpha.branch])
    await json(['merge', 'start', n.shortId, beta.branch], 1)
    const conflicted = read(n.worktreePath, 'shared.txt')
    mkdirSync(join(t.root, 'outside'), {recursive: true})
    writeFileSync(join(t.root, 'outside', 'shared.txt'), 'outside\n')
    symlinkSync(join(t.root, 'outside'), join(n.worktreePath, 'escape'))

    for (const bad of ['../../etc/passwd', '/etc/passwd', 'escape/shared.txt', `../${n.worktreePath.split('/').pop()}/../outside/shared.txt`]) {
      const r = await makima(['merge', 'resolve', n.shortId, bad, '--strategy', 'theirs'])
      expect(r.code, `${bad}: ${r.stderr}`).toBe(2)
      expect(r.stderr).toContain(bad)
    }
    const strategy = await makima(['merge', 'resolve', n.shortId, 'shared.txt', '--strategy', 'mine'])
    expect(strategy.code).toBe(2)
    expect(strategy.stderr).toContain('mine')

    expect(read(n.worktreePath, 'shared.txt')).toBe(conflicted)
    expect(readFileSync(join(t.root, 'outside', 'shared.txt'), 'utf8')).toBe('outside\n')
    expect((await json(['merge', 'status', n.shortId])).conflictedFiles).toEqual(['shared.txt'])
    await json(['merge', 'abort', n.shortId])
  }, 120_000)

  test('uncommitted changes the merge would overwrite: git refuses, exit 4, the changes are kept', async () => {
    const d = integration.dirty
    const head = gitIn(d.worktreePath, 'rev-parse', 'HEAD')
    writeFileSync(join(d.worktreePath, 'shared.txt'), 'uncommitted work\n')
    const r = await makima(['merge', 'start', d.shortId, alpha.branch])
    expect(r.code, r.stderr).toBe(4)
    expect(r.stderr).toMatch(/local changes .*would be overwritten by merge.*shared\.txt/)
    expect(gitIn(d.worktreePath, 'rev-parse', 'HEAD')).toBe(head)
    expect(hasMergeHead(d.worktreePath)).toBe(false)
    expect(read(d.worktreePath, 'shared.txt')).toBe('uncommitted work\n')
  }, 120_000)

  test('a task without a worktree or repository: exit 4; an unknown task: exit 3', async () => {
    const id = noRepoTask.id
    for (const args of [['status', id], ['branches', id], ['check', id], ['start', id, alpha.branch], ['abort', id]]) {
      const r = await makima(['merge', ...args])
      expect(r.code, `merge ${args.join(' ')}: ${r.stderr}`).toBe(4)
      expect(r.stderr).toContain('has no repository')
    }

    const gone = integration.gone
    expect((await makima(['task', 'cleanup', gone.id])).code).toBe(0)
    const r = await makima(['merge', 'status', gone.shortId])
    expect(r.code).toBe(4)
    expect(r.stderr).toContain('has no worktree')

    expect((await makima(['merge', 'status', 'deadbeef'])).code).toBe(3)
  }, 120_000)
})
