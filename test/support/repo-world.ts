// A per-test world for the git-workflow tests (repository sources, continue-from, --files): its
// own scripted API, testEnv and git repository (optionally with a bare origin), and shortcuts to
// run the built CLI there. Cleanup is useCleanup()'s (cli.ts).
import {existsSync, readdirSync} from 'node:fs'

import {runCli} from './cli.js'
import {testEnv, type TestEnv} from './env.js'
import {makeRepo, type Repo} from './git-fixtures.js'
import {startScriptedApi, type Script, type ScriptedApi} from './scripted-api.js'

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface RepoWorld {
  api: ScriptedApi
  t: TestEnv
  repo: Repo
  /** `makima ...args` to completion (cwd: the test's temp root, not the repository). */
  makima(args: string[], opts?: {timeoutMs?: number}): Promise<CliResult>
  /** `makima ...args --json`; expects exit 0 and returns the parsed stdout. */
  json(args: string[]): Promise<any>
  /** `task spawn --detach ...args`; expects exit 0 and returns the task id. */
  spawnDetached(args: string[]): Promise<string>
  /** `task wait <id>`; expects exit 0 and returns the task object. */
  waitCompleted(id: string): Promise<any>
}

export interface RepoWorldOptions {
  bare?: boolean
  extra?: Record<string, string | undefined>
  /** runs after the env exists, before the repository is made (e.g. rewrite ~/.gitconfig) */
  prepare?: (t: TestEnv) => void
}

export async function repoWorld(script: Script, options: RepoWorldOptions = {}): Promise<RepoWorld> {
  const api = await startScriptedApi(script)
  const t = testEnv({apiUrl: api.url, extra: options.extra})
  options.prepare?.(t)
  const repo = makeRepo(t.root, {env: t.env, bare: options.bare})
  const makima: RepoWorld['makima'] = (args, opts = {}) => runCli(args, {env: t.env, cwd: t.root, timeoutMs: opts.timeoutMs ?? 60_000})
  const json: RepoWorld['json'] = async (args) => {
    const r = await makima([...args, '--json'])
    if (r.code !== 0) throw new Error(`makima ${args.join(' ')} --json exited ${r.code}\n${r.stdout}\n${r.stderr}`)
    return JSON.parse(r.stdout)
  }
  return {
    api,
    t,
    repo,
    makima,
    json,
    async spawnDetached(args) {
      const r = await makima(['task', 'spawn', '--detach', ...args])
      if (r.code !== 0) throw new Error(`task spawn --detach ${args.join(' ')} exited ${r.code}\n${r.stdout}\n${r.stderr}`)
      return r.stdout.trim()
    },
    async waitCompleted(id) {
      const r = await makima(['task', 'wait', id, '--json'])
      if (r.code !== 0) throw new Error(`task wait ${id} exited ${r.code}\n${r.stdout}\n${r.stderr}`)
      return JSON.parse(r.stdout)
    },
  }
}

/** Entries of a directory (none when it does not exist), sorted. */
export function entries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : []
}
