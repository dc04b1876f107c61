// A per-test world for task commands: its own scripted API, testEnv (pointed at that API) and git
// repository, plus shortcuts to run the built CLI in it. Cleanup is useCleanup()'s (cli.ts).
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {afterEach} from 'vitest'

import {killAllSpawned, runCli, spawnCli, type SpawnedProcess} from './cli.js'
import {cleanupAllTestEnvs, testEnv, type TestEnv} from './env.js'
import {makeRepo, type Repo} from './git-fixtures.js'
import {isAlive, processCmdline, processesWithEnv, processState, waitFor} from './processes.js'
import {closeAllScriptedApis, startScriptedApi, type Script, type ScriptedApi} from './scripted-api.js'

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface TaskWorld {
  api: ScriptedApi
  t: TestEnv
  repo: Repo
  /** Runs `makima ...args` to completion in this world's env (cwd: the repository). */
  makima(args: string[], opts?: {input?: string; timeoutMs?: number}): Promise<CliResult>
  /** Runs `makima ...args --json`, expects exit 0 and returns the parsed stdout (one JSON value). */
  json(args: string[]): Promise<any>
  /** Starts `makima ...args` without waiting for it (tracked for cleanup). */
  spawn(args: string[], opts?: {input?: string}): SpawnedProcess
}

export async function taskWorld(script: Script, extra: Record<string, string | undefined> = {}): Promise<TaskWorld> {
  const api = await startScriptedApi(script)
  const t = testEnv({apiUrl: api.url, extra})
  const repo = makeRepo(t.root, {env: t.env})
  const makima: TaskWorld['makima'] = (args, opts = {}) => runCli(args, {env: t.env, cwd: repo.dir, input: opts.input, timeoutMs: opts.timeoutMs ?? 45_000})
  return {
    api,
    t,
    repo,
    makima,
    async json(args) {
      const r = await makima([...args, '--json'])
      if (r.code !== 0) throw new Error(`makima ${args.join(' ')} --json exited ${r.code}\n${r.stdout}\n${r.stderr}`)
      return JSON.parse(r.stdout)
    },
    spawn: (args, opts = {}) => spawnCli(args, {env: t.env, cwd: repo.dir, input: opts.input}),
  }
}

/** Every text a tool_result carried back to the API, across all recorded calls. */
export function toolResultsText(api: ScriptedApi): string {
  return api.calls.flatMap((c) => c.toolResults.map((r) => r.content)).join('\n')
}

// ---- task processes and runners (task-control / task-bad-input tests) ----

/** The marker makima puts in every process of a task (docs/design.md "Processes"). */
export const TASK_MARKER = 'MAKIMA_TASK_ID'

/** Live (non-zombie) pids whose environment carries MAKIMA_TASK_ID=<taskId>. */
export function taskPids(taskId: string): number[] {
  return processesWithEnv(TASK_MARKER, taskId).filter((pid) => isAlive(pid))
}

/** Each live process of the task with its state letter and command line, for assertions and messages. */
export function describeTaskProcesses(taskId: string): {pid: number; state: string | undefined; cmd: string}[] {
  return taskPids(taskId).map((pid) => ({pid, state: processState(pid), cmd: processCmdline(pid) ?? '?'}))
}

/** The runner pid a detached task logged in its first line ("... runner pid N for task <id>"). */
export async function runnerPidFromLog(w: TaskWorld, taskId: string): Promise<number> {
  const log = join(w.t.makimaHome, 'logs', `${taskId}.log`)
  const match = await waitFor(() => (existsSync(log) ? readFileSync(log, 'utf8').match(/runner pid (\d+)/) : null), {
    timeoutMs: 15_000,
    description: `"runner pid N" in ${log}`,
  })
  return Number(match[1])
}

/** id and state of every task in the world's database, read directly (for cheap polling). */
export function storedTasks(w: TaskWorld): {id: string; state: string}[] {
  const file = join(w.t.makimaHome, 'makima.db')
  if (!existsSync(file)) return []
  const db = new Database(file, {readonly: true, fileMustExist: true})
  try {
    return db.prepare('SELECT id, state FROM tasks ORDER BY created_at').all() as {id: string; state: string}[]
  } finally {
    db.close()
  }
}

/** Number of lines of a file; 0 while it does not exist. */
export function lineCount(file: string): number {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0
}

/** The `Error: ` lines of a stderr text. */
export function errorLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.startsWith('Error:'))
}

/**
 * Per-test isolation for files that start tasks: after each test kill every tracked child, close
 * the scripted APIs and remove the test envs (which kills what still carries their marker).
 */
export function useTaskCleanup(): void {
  afterEach(async () => {
    killAllSpawned()
    await closeAllScriptedApis()
    cleanupAllTestEnvs()
  })
}

export interface Gate {
  /** Resolves once open() was called: a script can `await gate.opened` to hold a reply. */
  opened: Promise<void>
  open(): void
}

/** A one-shot gate, so a test decides exactly when a scripted reply goes out. */
export function gate(): Gate {
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  return {opened, open}
}
