// A world for daemon tests: a fake server (fake-server.ts), a testEnv whose MAKIMA_HOME the daemon
// uses, a git repository for tasks, and the real `claude` talking to a scripted API that the test
// file shares between worlds. The daemon is the built CLI (`makima daemon`), one process at a time.
import {randomBytes, randomUUID} from 'node:crypto'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {afterAll} from 'vitest'

import {killAllSpawned, runCli, spawnCli, type SpawnedProcess} from './cli.js'
import {cleanupAllTestEnvs, testEnv, type TestEnv} from './env.js'
import {closeAllFakeServers, startFakeServer, type FakeServer, type FakeServerOptions} from './fake-server.js'
import {makeRepo, type Repo} from './git-fixtures.js'
import {closeAllScriptedApis, type ScriptedApi} from './scripted-api.js'

export interface DaemonWorldOptions {
  server?: FakeServerOptions
  /** give the repository a bare `origin` */
  bare?: boolean
  /** extra environment variables of the daemon and of CLI calls */
  extra?: Record<string, string | undefined>
}

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface DaemonWorld {
  api: ScriptedApi
  server: FakeServer
  t: TestEnv
  repo: Repo
  /** the server API key the daemon authenticates with (a secret: must never leak) */
  apiKey: string
  /** the daemon process started last */
  daemon?: SpawnedProcess
  /** starts `makima daemon --server-url <server>` (args appended) and waits until it authenticated */
  startDaemon(args?: string[], opts?: {waitForAuth?: boolean; extra?: Record<string, string | undefined>}): Promise<SpawnedProcess>
  /** stops the running daemon with SIGTERM and waits for its exit */
  stopDaemon(): Promise<void>
  /** runs `makima ...args` to completion in this world's env */
  makima(args: string[], opts?: {input?: string; timeoutMs?: number}): Promise<CliResult>
  /** runs `makima ...args --json` and parses stdout (exit 0 expected) */
  json(args: string[]): Promise<any>
  /** sends spawnTask for a new task in this world's repository; returns its id */
  spawnTask(plan: string, fields?: Record<string, unknown>): string
  /** waits for taskStatusChange of the task to `status` (received at index `fromIndex` of server.messages or later) */
  waitForStatus(taskId: string, status: string, timeoutMs?: number, fromIndex?: number): Promise<any>
  /**
   * Sends a command and waits for its answer (`answerType`, matched on taskId/requestId when the
   * command has one) or a commandError for it, whichever comes first after the send.
   */
  request(command: Record<string, unknown>, answerType?: string, timeoutMs?: number): Promise<any>
  /** every taskOutput/status/complete message of a task (first copy of each seq) */
  taskMessages(taskId: string): any[]
  /** rows of a table of the world's database (read-only) */
  query(sql: string, ...params: unknown[]): any[]
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Cleanup for daemon test files: after all tests kill every tracked child, close fake servers and
 * scripted APIs, and remove the test envs (killing whatever still carries their marker).
 */
export function useDaemonCleanup(): void {
  afterAll(async () => {
    killAllSpawned()
    await closeAllFakeServers()
    await closeAllScriptedApis()
    cleanupAllTestEnvs()
  })
}

export async function daemonWorld(api: ScriptedApi, options: DaemonWorldOptions = {}): Promise<DaemonWorld> {
  const server = await startFakeServer(options.server)
  const apiKey = `mk-secret-${randomBytes(16).toString('hex')}`
  const t = testEnv({
    apiUrl: api.url,
    extra: {
      MAKIMA_DAEMON_SERVER_APIKEY: apiKey,
      MAKIMA_DAEMON_SERVER_RECONNECTINTERVALSECS: '0.2',
      ...options.extra,
    },
  })
  const repo = makeRepo(t.root, {env: t.env, bare: options.bare})
  const makima: DaemonWorld['makima'] = (args, opts = {}) => runCli(args, {env: t.env, cwd: repo.dir, input: opts.input, timeoutMs: opts.timeoutMs ?? 45_000})

  const world: DaemonWorld = {
    api,
    server,
    t,
    repo,
    apiKey,
    async startDaemon(args = [], opts = {}) {
      const authBefore = server.messagesOfType('authenticate').length
      const env = {...t.env}
      for (const [k, v] of Object.entries(opts.extra ?? {})) {
        if (v === undefined) delete env[k]
        else env[k] = v
      }
      const daemon = spawnCli(['daemon', '--server-url', server.url, ...args], {env, cwd: t.root})
      world.daemon = daemon
      if (opts.waitForAuth ?? true) {
        const exited = daemon.wait().then((e) => {
          throw new Error(`the daemon exited (code ${e.code}, signal ${e.signal}) before it authenticated\n${e.stderr}`)
        })
        const authed = (async () => {
          for (;;) {
            if (server.messagesOfType('authenticate').length > authBefore && server.authenticated) return
            await sleep(20)
          }
        })()
        await Promise.race([authed, exited, sleep(20_000).then(() => Promise.reject(new Error(`the daemon did not authenticate within 20 s\n${daemon.stderr}`)))])
        exited.catch(() => {})
      }
      return daemon
    },
    async stopDaemon() {
      const d = world.daemon
      if (!d || d.exit) return
      d.kill('SIGTERM')
      await d.wait()
    },
    makima,
    async json(args) {
      const r = await makima([...args, '--json'])
      if (r.code !== 0) throw new Error(`makima ${args.join(' ')} --json exited ${r.code}\n${r.stdout}\n${r.stderr}`)
      return JSON.parse(r.stdout)
    },
    spawnTask(plan, fields = {}) {
      const taskId = randomUUID()
      server.send({
        type: 'spawnTask',
        taskId,
        taskName: `task-${taskId.slice(0, 4)}`,
        plan,
        repoUrl: repo.dir,
        depth: 0,
        isOrchestrator: false,
        isSupervisor: false,
        autonomousLoop: false,
        resumeSession: false,
        ...fields,
      })
      return taskId
    },
    waitForStatus(taskId, status, timeoutMs = 30_000, fromIndex = 0) {
      return server.waitForMessage((m) => m.type === 'taskStatusChange' && m.taskId === taskId && m.newStatus === status, timeoutMs, `taskStatusChange of ${taskId} to ${status}`, fromIndex)
    },
    request(command, answerType, timeoutMs = 20_000) {
      const from = server.messages.length
      const matches = (m: any) => {
        if (command.taskId !== undefined && typeof command.taskId === 'string' && m.taskId !== command.taskId) return false
        if (command.requestId !== undefined && typeof command.requestId === 'string' && m.requestId !== command.requestId) return false
        return true
      }
      const wanted = server.waitForMessage(
        (m) => (m.type === 'commandError' && m.commandType === command.type && matches(m)) || (answerType !== undefined && m.type === answerType && matches(m)),
        timeoutMs,
        `${answerType ?? 'commandError'} for ${String(command.type)}`,
        from,
      )
      server.send(command)
      return wanted
    },
    taskMessages(taskId) {
      return server.uniqueSeqMessages().filter((m) => m.taskId === taskId)
    },
    query(sql, ...params) {
      const file = join(t.makimaHome, 'makima.db')
      if (!existsSync(file)) return []
      const db = new Database(file, {readonly: true, fileMustExist: true})
      try {
        return db.prepare(sql).all(...params)
      } finally {
        db.close()
      }
    },
  }
  return world
}

/** Expects the seqs of messages to be strictly increasing; returns the list. */
export function seqsOf(messages: any[]): number[] {
  return messages.map((m) => m.seq)
}
