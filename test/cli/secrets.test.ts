// Issue 16 (2): makima's secrets never reach what it stores, prints or sends, in any encoding a
// task's shell makes without trying; `config set` keeps the server key out of config.json; with
// the sandbox a task cannot even read them. The attacks are real: the real claude runs Bash
// commands that dump config.json and every process environment it can read, encoded.
import {chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import Database from 'better-sqlite3'
import {describe, expect, test} from 'vitest'

import {daemonWorld, useDaemonCleanup} from '../support/daemon-world.js'
import {startScriptedApi, steps} from '../support/scripted-api.js'
import {taskWorld, toolResultsText} from '../support/task-helpers.js'
import {secretVariants} from '../../src/lib/secrets/redactor.js'

useDaemonCleanup()

const NODE_ENCODE = (encoding: string) => `node -e "process.stdout.write(Buffer.from(require('fs').readFileSync(0)).toString('${encoding}'))"`
/** one shell line that prints a file, or every readable environ, raw and encoded five ways */
function dump(source: string): string {
  const read = `{ ${source}; }`
  return [
    `${read} | tr '\\0' '\\n'`,
    `${read} | base64`,
    `${read} | base64 -w0`,
    `${read} | ${NODE_ENCODE('hex')}`,
    `${read} | ${NODE_ENCODE('base64url')}`,
    `${read} | node -e "process.stdout.write(encodeURIComponent(require('fs').readFileSync(0,'utf8')))"`,
    'echo; echo dumped',
  ].join('; ')
}

/** any of the secret's variants (raw, base64 at each alignment, hex, URL) in the text */
function leaked(text: string, secret: string): string[] {
  const flat = text.replace(/\\n|\n/g, '')
  return secretVariants(secret).filter((v) => flat.includes(v))
}

describe('the server API key', () => {
  test('config set refuses it, naming where it can go; config.json stays without it', async () => {
    const w = await taskWorld(steps({text: 'unused'}))
    const r = await w.makima(['config', 'set', 'server.apiKey', 'mk-should-never-be-stored-1234'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('server.apiKey cannot be stored in config.json')
    expect(r.stderr).toContain('MAKIMA_DAEMON_SERVER_APIKEY')
    expect(r.stderr).toContain('server.apiKeyFile')
    expect(() => readFileSync(join(w.t.makimaHome, 'config.json'), 'utf8')).toThrow()
  })

  test('a CLI task that dumps a legacy config.json, encoded: nothing of the key is stored or printed; doctor warns', async () => {
    const key = 'mk-legacy-key-0123456789abcdefXYZ'
    let probe = 'true'
    const w = await taskWorld((ctx) => (ctx.toolResults.length === 0 ? {bash: probe} : {text: 'all dumped'}))
    mkdirSync(w.t.makimaHome, {recursive: true})
    writeFileSync(join(w.t.makimaHome, 'config.json'), JSON.stringify({server: {apiKey: key}}), {mode: 0o600})
    probe = dump(`cat "$MAKIMA_HOME/config.json"`)
    const r = await w.makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'dump the config'], {timeoutMs: 90_000})
    expect(r.code, r.stderr).toBe(0)
    const task = JSON.parse(r.stdout)
    // The attack worked (the model saw the key: redaction is for what makima keeps and sends)...
    expect(leaked(toolResultsText(w.api), key).length).toBeGreaterThanOrEqual(3) // raw, hex, base64
    // ...and none of it reached the transcript, the raw log, the task object or the database file.
    const raw = await w.makima(['task', 'logs', '--raw', task.id])
    expect(raw.stdout).toContain('dumped')
    expect(raw.stdout).toContain('[redacted]')
    const text = await w.makima(['task', 'logs', task.id])
    for (const out of [r.stdout, r.stderr, raw.stdout, text.stdout]) expect(leaked(out, key)).toEqual([])
    await w.makima(['task', 'list']) // closes cleanly: the WAL is checkpointed into the file
    const db = readFileSync(join(w.t.makimaHome, 'makima.db')).toString('latin1')
    expect(leaked(db, key)).toEqual([])

    const doctor = await w.makima(['doctor', '--json'])
    const secrets = JSON.parse(doctor.stdout).find((c: {check: string}) => c.check === 'secrets')
    expect(secrets).toMatchObject({status: 'warn'})
    expect(secrets.detail).toContain('server.apiKey is stored in')
    expect(doctor.stdout).not.toContain(key)
  })
})

describe('a daemon task', () => {
  // The tool shell's parent is claude, whose parent is the daemon: its environment still holds the key.
  test("dumps the daemon's process environment (it holds the key): taskOutput and the store carry none of it", async () => {
    const api = await startScriptedApi(
      steps({bash: dump("cat /proc/$(awk '{print $4}' /proc/$PPID/stat)/environ | tr '\\0' '\\n' | grep '^MAKIMA_DAEMON_SERVER_APIKEY='")}, {text: 'environments dumped'}),
    )
    const w = await daemonWorld(api)
    await w.startDaemon()
    const id = w.spawnTask('dump environments')
    const done = await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === id, 60_000)
    expect(done.success).toBe(true)
    expect(leaked(toolResultsText(api), w.apiKey).length).toBeGreaterThanOrEqual(3) // the attack read it
    const sent = w.server.messages.map((m) => m.raw).filter((raw) => !raw.includes('"type":"authenticate"'))
    expect(sent.join('\n')).toContain('dumped')
    expect(leaked(sent.join('\n'), w.apiKey)).toEqual([])
    const stored = w
      .query('SELECT line FROM output WHERE task_id = ?', id)
      .map((row) => row.line)
      .join('\n')
    expect(leaked(stored, w.apiKey)).toEqual([])
    await w.stopDaemon()
    expect(leaked(w.daemon!.stderr, w.apiKey)).toEqual([])
  })

  test('a key in server.apiKeyFile authenticates; config.json never holds it', async () => {
    const api = await startScriptedApi(steps({text: 'nothing'}))
    const w = await daemonWorld(api)
    const file = join(w.t.root, 'server-key')
    writeFileSync(file, `${w.apiKey}\n`)
    chmodSync(file, 0o600)
    const set = await w.makima(['config', 'set', 'server.apiKeyFile', file])
    expect(set.code, set.stderr).toBe(0)
    await w.startDaemon([], {extra: {MAKIMA_DAEMON_SERVER_APIKEY: undefined}})
    expect(w.server.messagesOfType('authenticate').at(-1).apiKey).toBe(w.apiKey)
    expect(readFileSync(join(w.t.makimaHome, 'config.json'), 'utf8')).not.toContain(w.apiKey)
  })
})

describe('the outbox', () => {
  test('a tool key the server acked is gone from the database file, not left in a free page', async () => {
    const api = await startScriptedApi(steps({bash: 'echo contract work'}, {text: 'contract piece done'}))
    const w = await daemonWorld(api, {server: {ack: 'manual'}})
    await w.startDaemon()
    const id = w.spawnTask('a contract piece', {contractId: '0c0c0c0c-0000-4000-8000-000000000000'})
    await w.waitForStatus(id, 'completed', 60_000)
    const toolKey = w.server.messagesOfType('registerToolKey').find((m) => m.taskId === id).toolKey as string
    expect(toolKey).toMatch(/^[0-9a-f]{64}$/)
    // Unacked, the message is copied into the database file by a checkpoint (any process may run one)...
    const dbFile = join(w.t.makimaHome, 'makima.db')
    const other = new Database(dbFile)
    other.pragma('wal_checkpoint(PASSIVE)')
    other.close()
    expect(readFileSync(dbFile).includes(Buffer.from(toolKey))).toBe(true)
    // ...then the server acks everything, and a clean stop checkpoints the WAL again.
    w.server.ackUpTo(Math.max(...w.server.messages.map((m) => m.msg?.seq ?? 0)))
    const deadline = Date.now() + 10_000
    while (w.query('SELECT count(*) AS n FROM outbox')[0].n > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    expect(w.query('SELECT count(*) AS n FROM outbox')[0].n).toBe(0)
    await w.stopDaemon()
    const bytes = Buffer.concat([readFileSync(dbFile), ...['-wal'].flatMap((s) => (existsSync(dbFile + s) ? [readFileSync(dbFile + s)] : []))])
    expect(bytes.includes(Buffer.from(toolKey))).toBe(false)
  })
})
