// The fleet test's world (test/daemon/fleet.test.ts): the scripted writers, a fleet of real
// `makima daemon` pods against the fleet server, and the checks of work carried across a move.
import {execFileSync} from 'node:child_process'
import {randomBytes, randomUUID} from 'node:crypto'
import {appendFileSync, existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'
import Database from 'better-sqlite3'
import {expect} from 'vitest'

import {spawnCli, type SpawnedProcess} from './cli.js'
import {testEnv, type TestEnv} from './env.js'
import {startFleetServer, type FleetServer, type FleetTask} from './fleet-server.js'
import {makeRepo} from './git-fixtures.js'
import {byPrompt, startScriptedApi, type ScriptContext, type ScriptedApi} from './scripted-api.js'

// A writer puts three files in its worktree, one a tool call, a second and a half apart; a file
// that is already there (brought by the checkpoint patch of a move) is kept, so the content of a
// file written before a move (a unique timestamp) must survive into the final worktree.
export const PARTS = ['part1', 'part2', 'part3']
export const write = (part: string) => `test -f ${part}.txt || echo "${part} $(date +%s%N)" > ${part}.txt; sleep 1.5`
// turn-independent past the files: a moved task starts a new conversation
export function writer(ctx: ScriptContext) {
  if (ctx.turn < PARTS.length) return {bash: write(PARTS[ctx.turn])}
  if (ctx.turn === PARTS.length) return {bash: `cat ${PARTS.map((p) => `${p}.txt`).join(' ')}`}
  return {text: 'fleet writer done'}
}
export const quick = (ctx: ScriptContext) => (ctx.turn === 0 ? {bash: 'echo quick > quick.txt'} : {text: 'fleet quick done'})

export let api: ScriptedApi
export async function sharedApi(): Promise<ScriptedApi> {
  api ??= await startScriptedApi(byPrompt({'fleet writer': writer, 'fleet quick': quick}))
  return api
}

export interface Pod {
  name: string
  t: TestEnv
  daemon: SpawnedProcess
  daemonId: string
}

export interface Fleet {
  server: FleetServer
  /** a directory of the test (the origin repository's) */
  origin: string
  repoUrl: string
  apiKey: string
  /**
   * starts `makima daemon` on a MAKIMA_HOME (a new one unless `t` is given; `gitconfig` is added to
   * its user's ~/.gitconfig) and waits until the server knows it
   */
  startPod(name: string, opts?: {t?: TestEnv; gitconfig?: string}): Promise<Pod>
  submit(plan: string): FleetTask
  /** the task's row in the database of a pod */
  taskRow(pod: Pod, taskId: string): any
}

export const DRAIN_GRACE_SECS = 15

export async function fleet(extra: Record<string, string> = {}): Promise<Fleet> {
  const scripted = await sharedApi()
  // a moved task gets a conversation history every other time (the other half: the plan and a note)
  let histories = 0
  const server = await startFleetServer({
    history: (task) =>
      histories++ % 2 === 0
        ? [
            {role: 'user', content: task.spawn.plan},
            {role: 'assistant', content: `FLEET-HISTORY ${task.id}`},
          ]
        : undefined,
  })
  const apiKey = `mk-secret-${randomBytes(16).toString('hex')}`
  const origin = testEnv()
  const repo = makeRepo(origin.root, {env: origin.env, bare: true, files: {'README.md': '# fleet\n', 'src/app.txt': 'app\n'}})
  const env = (t?: TestEnv) =>
    t ??
    testEnv({
      apiUrl: scripted.url,
      extra: {
        MAKIMA_DAEMON_SERVER_APIKEY: apiKey,
        MAKIMA_DAEMON_SERVER_RECONNECTINTERVALSECS: '0.2',
        MAKIMA_DAEMON_PROCESS_HEARTBEATCOMMITINTERVALSECS: '0.5',
        MAKIMA_DAEMON_PROCESS_MAXCONCURRENTTASKS: '4',
        MAKIMA_DAEMON_PROCESS_INTERRUPTGRACESECS: '2',
        MAKIMA_DAEMON_DAEMON_DRAINGRACESECS: String(DRAIN_GRACE_SECS),
        ...extra,
      },
    })
  const meta = (t: TestEnv, key: string): string | undefined => {
    const file = join(t.makimaHome, 'makima.db')
    if (!existsSync(file)) return undefined
    const db = new Database(file, {readonly: true, fileMustExist: true})
    try {
      return (db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as {value: string} | undefined)?.value
    } catch {
      return undefined // not made yet
    } finally {
      db.close()
    }
  }
  return {
    server,
    origin: origin.root,
    repoUrl: `file://${repo.remote}`,
    apiKey,
    async startPod(name, opts = {}) {
      const t = env(opts.t)
      if (opts.gitconfig) appendFileSync(join(t.home, '.gitconfig'), opts.gitconfig)
      const before = opts.t ? (server.daemons.get(meta(t, 'daemon.id') ?? '')?.authentications.length ?? 0) : 0
      const daemon = spawnCli(['daemon', '--server-url', server.url], {env: t.env, cwd: t.root})
      const exited = daemon.wait().then((e) => {
        throw new Error(`daemon ${name} exited (code ${e.code}, signal ${e.signal}) before it authenticated\n${e.stderr}`)
      })
      exited.catch(() => {})
      const daemonId = await Promise.race([
        server.until(
          () => {
            const id = meta(t, 'daemon.id')
            const known = id ? server.daemons.get(id) : undefined
            return known?.connected && known.authentications.length > before ? id : undefined
          },
          30_000,
          `daemon ${name} authenticated`,
        ),
        exited,
      ])
      return {name, t, daemon, daemonId}
    },
    submit(plan) {
      const taskId = randomUUID()
      return server.submit({
        taskId,
        taskName: `${plan.split(' ').slice(0, 2).join('-')}-${taskId.slice(0, 4)}`,
        plan,
        repoUrl: `file://${repo.remote}`,
        depth: 0,
        isOrchestrator: false,
        isSupervisor: false,
        autonomousLoop: false,
        resumeSession: false,
      })
    },
    taskRow(pod, taskId) {
      const db = new Database(join(pod.t.makimaHome, 'makima.db'), {readonly: true, fileMustExist: true})
      try {
        return db.prepare('SELECT id, state, worktree_path AS worktreePath, base_sha AS baseSha, plan FROM tasks WHERE id = ?').get(taskId)
      } finally {
        db.close()
      }
    },
  }
}

/** The files a checkpoint patch adds, with their content (text files of one line or more). */
export function addedFiles(patchData: string): Map<string, string> {
  const text = gunzipSync(Buffer.from(patchData, 'base64')).toString('utf8')
  const files = new Map<string, string>()
  for (const section of text.split(/^diff --git /m).slice(1)) {
    const name = /^a\/(\S+) b\//.exec(section)?.[1]
    if (!name || !/^new file mode/m.test(section)) continue
    const body = section.slice(section.search(/^@@/m))
    const lines = body
      .split('\n')
      .filter((l) => l.startsWith('+'))
      .map((l) => l.slice(1))
    files.set(name, `${lines.join('\n')}\n`)
  }
  return files
}

/**
 * The files of the patch a task was last sent with are in its final worktree on `pod`, byte for
 * byte (a writer keeps a file it finds), and that worktree is at the patch's base. Returns how many.
 */
export function expectWorkCarried(f: Fleet, pod: Pod, t: FleetTask): number {
  const patch = t.assignments.at(-1)!.patch!
  const row = f.taskRow(pod, t.id)
  expect(row).toMatchObject({state: 'completed', baseSha: patch.patchBaseSha})
  const files = addedFiles(patch.patchData)
  expect(files.size, `files in the patch of ${t.id}`).toBeGreaterThan(0)
  for (const [name, content] of files) expect(readFileSync(join(row.worktreePath, name), 'utf8'), `${name} of task ${t.id}`).toBe(content)
  for (const part of t.spawn.plan.includes('writer') ? PARTS : ['quick']) expect(existsSync(join(row.worktreePath, `${part}.txt`))).toBe(true)
  // the worktree is on the base the patch was taken against, in this daemon's own clone
  expect(execFileSync('git', ['rev-parse', 'HEAD'], {cwd: row.worktreePath, encoding: 'utf8'}).trim()).toBe(patch.patchBaseSha)
  return files.size
}

/** per daemon, the seqs received are 1..n with none missing */
export function expectNoSeqGaps(server: FleetServer): void {
  for (const d of server.daemons.values()) {
    const seqs = [...d.seqs].sort((a, b) => a - b)
    expect(seqs.length, `daemon ${d.daemonId} sent messages`).toBeGreaterThan(0)
    expect(seqs, `seqs of daemon ${d.daemonId}`).toEqual(Array.from({length: seqs.length}, (_, i) => i + 1))
  }
}

export const allEnded = (server: FleetServer) => {
  const tasks = [...server.tasks.values()]
  if (tasks.some((t) => t.state === 'failed')) return 'a task failed'
  return tasks.every((t) => t.state === 'completed') ? 'all completed' : undefined
}
