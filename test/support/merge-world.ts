// The world of the merge CLI tests (merge.test.ts, merge-refusals.test.ts): real git (a repository
// with a bare origin) and real task worktrees made by the REAL claude against a scripted API. Two
// subtasks of one integration task (`parent`) commit different content to the same line of
// shared.txt on their branches; integration tasks (one per test, by name) then merge them. Each
// CLI call is a new process: the state lives in git and the store. Cleanup is useCleanup()'s.
import {execFileSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {expect} from 'vitest'

import {runCli} from './cli.js'
import {testEnv, type TestEnv} from './env.js'
import {gitWithEnv, makeRepo, type Repo} from './git-fixtures.js'
import {byPrompt, startScriptedApi, steps} from './scripted-api.js'

export interface MergeTask {
  id: string
  shortId: string
  branch: string
  worktreePath: string
}

export interface MergeWorld<Name extends string> {
  t: TestEnv
  repo: Repo
  /** the integration task the two subtasks belong to */
  parent: MergeTask
  /** the subtasks: each committed its own line to shared.txt on its branch */
  alpha: MergeTask
  beta: MergeTask
  /** the integration tasks asked for, completed, with their worktrees */
  integration: Record<Name, MergeTask>
  /** a completed task spawned without a repository */
  noRepoTask: MergeTask
  /** `makima ...args` to completion (cwd: the test's temp root) */
  makima(args: string[]): Promise<{code: number | null; stdout: string; stderr: string}>
  /** `makima ...args --json`: expects the exit code and exactly one JSON value on stdout */
  json(args: string[], expectedCode?: number): Promise<any>
  gitIn(cwd: string, ...args: string[]): string
  /** a merge is in progress in the worktree */
  hasMergeHead(wt: string): boolean
  read(wt: string, file: string): string
}

/** Makes the world (each task a real claude run, concurrently); for a beforeAll of 240 s. */
export async function mergeWorld<Name extends string>(integrations: readonly Name[]): Promise<MergeWorld<Name>> {
  const api = await startScriptedApi(
    byPrompt(
      {
        'SUBTASK-ALPHA': steps({bash: "echo alpha > shared.txt && echo 'from alpha' > alpha-only.txt && git add -A && git commit -q -m 'alpha edits shared.txt'"}, {text: 'alpha committed'}),
        'SUBTASK-BETA': steps({bash: "echo beta > shared.txt && echo 'from beta' > beta-only.txt && git add -A && git commit -q -m 'beta edits shared.txt'"}, {text: 'beta committed'}),
      },
      {text: 'ok'},
    ),
  )
  const t = testEnv({apiUrl: api.url, extra: {MAKIMA_DAEMON_PROCESS_MAXCONCURRENTTASKS: '20'}})
  const repo = makeRepo(t.root, {env: t.env, bare: true, files: {'README.md': '# merge test\n', 'shared.txt': 'base\n'}})

  const makima: MergeWorld<Name>['makima'] = (args) => runCli(args, {env: t.env, cwd: t.root, timeoutMs: 60_000})
  const json: MergeWorld<Name>['json'] = async (args, expectedCode = 0) => {
    const r = await makima([...args, '--json'])
    expect(r.code, `makima ${args.join(' ')} --json\n${r.stdout}\n${r.stderr}`).toBe(expectedCode)
    return JSON.parse(r.stdout) // throws unless stdout is exactly one JSON value
  }
  const gitIn = (cwd: string, ...args: string[]) => gitWithEnv(t.env, cwd, ...args)
  const read = (wt: string, file: string) => readFileSync(join(wt, file), 'utf8')
  const hasMergeHead = (wt: string) => {
    try {
      execFileSync('git', ['rev-parse', '--quiet', '--verify', 'MERGE_HEAD'], {cwd: wt, env: t.env, stdio: 'ignore'})
      return true
    } catch {
      return false
    }
  }
  /** `task spawn --detach` (on the repository unless `repoFlag` is false); returns the task id. */
  const startTask = async (plan: string, extra: string[] = [], repoFlag = true): Promise<string> => {
    const r = await makima(['task', 'spawn', '--detach', ...(repoFlag ? ['--repo', repo.dir] : []), ...extra, plan])
    expect(r.code, r.stderr).toBe(0)
    return r.stdout.trim()
  }
  /** `task wait` until it completed; returns the task object. */
  const finished = async (id: string): Promise<MergeTask> => {
    const w = await makima(['task', 'wait', id])
    expect(w.code, `${w.stdout}\n${w.stderr}`).toBe(0)
    return json(['task', 'show', id])
  }

  const parent = await finished(await startTask('INTEGRATION parent of the two subtasks', ['--name', 'integration']))
  const ids = await Promise.all([
    startTask('SUBTASK-ALPHA: change shared.txt', ['--name', 'alpha', '--parent', parent.id]),
    startTask('SUBTASK-BETA: change shared.txt', ['--name', 'beta', '--parent', parent.id]),
    startTask('INTEGRATION without a repository', [], false),
    ...integrations.map((name) => startTask(`INTEGRATION ${name}`, ['--name', name])),
  ])
  const tasks = await Promise.all(ids.map((id) => finished(id)))
  const [alpha, beta, noRepoTask] = tasks
  const integration = {} as Record<Name, MergeTask>
  integrations.forEach((name, i) => {
    integration[name] = tasks[i + 3]
    expect(existsSync(integration[name].worktreePath)).toBe(true)
  })
  // The subtasks committed on their own branches; the source repository is untouched.
  expect(gitIn(repo.dir, 'log', '-1', '--format=%s', alpha.branch)).toBe('alpha edits shared.txt')
  expect(gitIn(repo.dir, 'log', '-1', '--format=%s', beta.branch)).toBe('beta edits shared.txt')
  expect(read(repo.dir, 'shared.txt')).toBe('base\n')
  return {t, repo, parent, alpha, beta, integration, noRepoTask, makima, json, gitIn, hasMergeHead, read}
}
