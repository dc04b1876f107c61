import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {afterEach, beforeEach, describe, expect, it} from 'vitest'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const BIN = path.join(ROOT, 'bin/run.js')

let home: string
let userHome: string

/** The environment of the CLI: nothing of the caller's MAKIMA_* configuration leaks in. */
function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('MAKIMA_')) env[k] = v
  return {...env, HOME: userHome, MAKIMA_HOME: home, NO_COLOR: '1', ...extra}
}

function run(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {cwd: ROOT, env: cliEnv(extraEnv), encoding: 'utf8', timeout: 30_000})
  return {code: r.status, stdout: r.stdout, stderr: r.stderr}
}

function runJson(args: string[], extraEnv: Record<string, string> = {}) {
  const r = run([...args, '--json'], extraEnv)
  // Exactly one JSON value on stdout and nothing else.
  return {...r, json: JSON.parse(r.stdout) as unknown}
}

const configFile = () => path.join(home, 'config.json')

beforeEach(() => {
  home = mkdtempSync(path.join(tmpdir(), 'makima-config-home-'))
  userHome = mkdtempSync(path.join(tmpdir(), 'makima-config-user-'))
})

afterEach(() => {
  rmSync(home, {recursive: true, force: true})
  rmSync(userHome, {recursive: true, force: true})
})

describe('makima config', {timeout: 60_000}, () => {
  it('set then get returns the typed value', () => {
    const set = runJson(['config', 'set', 'process.maxConcurrentTasks', '3'])
    expect(set.code).toBe(0)
    expect(set.json).toEqual({key: 'process.maxConcurrentTasks', value: 3})

    const get = runJson(['config', 'get', 'process.maxConcurrentTasks'])
    expect(get.code).toBe(0)
    expect(get.json).toEqual({key: 'process.maxConcurrentTasks', value: 3, source: 'file'})

    const plain = run(['config', 'get', 'process.maxConcurrentTasks'])
    expect(plain.code).toBe(0)
    expect(plain.stdout.trim()).toBe('3')

    const bool = runJson(['config', 'set', 'process.enablePermissions', 'true'])
    expect(bool.json).toEqual({key: 'process.enablePermissions', value: true})
    expect(runJson(['config', 'get', 'process.enablePermissions']).json).toMatchObject({value: true, source: 'file'})
  })

  it('writes nested JSON with mode 0600, even over a looser existing file', () => {
    writeFileSync(configFile(), '{}\n', {mode: 0o644})
    expect(run(['config', 'set', 'process.maxConcurrentTasks', '3']).code).toBe(0)
    expect(JSON.parse(readFileSync(configFile(), 'utf8'))).toEqual({process: {maxConcurrentTasks: 3}})
    expect(statSync(configFile()).mode & 0o777).toBe(0o600)
  })

  it('creates MAKIMA_HOME when missing', () => {
    rmSync(home, {recursive: true, force: true})
    home = path.join(home, 'nested', 'makima')
    expect(run(['config', 'set', 'process.maxConcurrentTasks', '4']).code).toBe(0)
    expect(statSync(home).mode & 0o777).toBe(0o700)
    expect(statSync(configFile()).mode & 0o777).toBe(0o600)
  })

  it('the environment overrides the file', () => {
    expect(run(['config', 'set', 'process.maxConcurrentTasks', '3']).code).toBe(0)
    const env = {MAKIMA_DAEMON_PROCESS_MAXCONCURRENTTASKS: '7'}
    const get = runJson(['config', 'get', 'process.maxConcurrentTasks'], env)
    expect(get.code).toBe(0)
    expect(get.json).toEqual({key: 'process.maxConcurrentTasks', value: 7, source: 'env'})

    const list = runJson(['config', 'list'], env)
    expect(list.json).toContainEqual({
      key: 'process.maxConcurrentTasks',
      value: 7,
      source: 'env',
      env: 'MAKIMA_DAEMON_PROCESS_MAXCONCURRENTTASKS',
    })
  })

  it('unset returns the key to its default', () => {
    expect(run(['config', 'set', 'process.maxConcurrentTasks', '3']).code).toBe(0)
    const unset = runJson(['config', 'unset', 'process.maxConcurrentTasks'])
    expect(unset.code).toBe(0)
    expect(unset.json).toEqual({key: 'process.maxConcurrentTasks', removed: true})
    expect(runJson(['config', 'get', 'process.maxConcurrentTasks']).json).toEqual({
      key: 'process.maxConcurrentTasks',
      value: 10,
      source: 'default',
    })
    expect(JSON.parse(readFileSync(configFile(), 'utf8'))).toEqual({})
    // unsetting again is not an error
    expect(runJson(['config', 'unset', 'process.maxConcurrentTasks']).json).toMatchObject({removed: false})
  })

  it('rejects a bad value with exit 2, naming the key and the value', () => {
    const r = run(['config', 'set', 'process.maxConcurrentTasks', 'abc'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('process.maxConcurrentTasks')
    expect(r.stderr).toContain('abc')
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^Error: /)

    const json = runJson(['config', 'set', 'process.maxConcurrentTasks', 'abc'])
    expect(json.code).toBe(2)
    expect(json.json).toMatchObject({error: {code: 'INVALID_INPUT'}})
  })

  it('rejects an unknown key with exit 2, naming it', () => {
    for (const args of [
      ['config', 'get', 'no.such.key'],
      ['config', 'set', 'no.such.key', '1'],
      ['config', 'unset', 'no.such.key'],
    ]) {
      const r = run(args)
      expect(r.code).toBe(2)
      expect(r.stderr).toContain('no.such.key')
      expect(r.stderr).toContain('process.maxConcurrentTasks') // lists the valid keys
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
    }
  })

  it('reports bad usage (missing arg, unknown flag) with exit 2 and one Error line', () => {
    for (const args of [
      ['config', 'get'],
      ['config', 'set', '--bogus'],
      ['config', 'set', 'process.maxConcurrentTasks'],
    ]) {
      const r = run(args)
      expect(r.code).toBe(2)
      const lines = r.stderr.trim().split('\n')
      expect(lines).toHaveLength(1)
      expect(lines[0]).toMatch(/^Error: /)
    }
  })

  it('reports a corrupt config.json (exit 2, names the file) and leaves it untouched', () => {
    writeFileSync(configFile(), '{not json', {mode: 0o600})
    for (const args of [
      ['config', 'list'],
      ['config', 'get', 'process.maxConcurrentTasks'],
      ['config', 'set', 'process.maxConcurrentTasks', '3'],
      ['config', 'unset', 'process.maxConcurrentTasks'],
    ]) {
      const r = run(args)
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(configFile())
    }
    expect(readFileSync(configFile(), 'utf8')).toBe('{not json')
  })

  it('never prints the full secret; refuses to store it (a key an older makima stored still reads, masked)', () => {
    const secret = 'sk-secret-1234567890'
    const set = run(['config', 'set', 'server.apiKey', secret])
    expect(set.code).toBe(2)
    expect(set.stderr).toContain('server.apiKey cannot be stored in config.json')
    expect(existsSync(configFile())).toBe(false)
    mkdirSync(path.dirname(configFile()), {recursive: true})
    writeFileSync(configFile(), JSON.stringify({server: {apiKey: secret}}))

    const outputs = [
      run(['config', 'list']),
      run(['config', 'list', '--json']),
      run(['config', 'get', 'server.apiKey']),
      run(['config', 'get', 'server.apiKey', '--json']),
      run(['config', 'get', 'server.apiKey'], {MAKIMA_DAEMON_SERVER_APIKEY: 'sk-env-abcdefghijkl'}),
    ]
    for (const r of [set, ...outputs]) {
      expect(r.stdout + r.stderr).not.toContain(secret)
      expect(r.stdout + r.stderr).not.toContain('sk-env-abcdefghijkl')
    }
    for (const r of outputs) expect(r.code).toBe(0)
    expect(JSON.parse(outputs[3].stdout)).toMatchObject({key: 'server.apiKey', source: 'file'})
    expect(outputs[2].stdout).toContain('7890')
  })

  it('--json prints exactly one JSON value on stdout', () => {
    expect(run(['config', 'set', 'process.maxConcurrentTasks', '3']).code).toBe(0)
    for (const args of [
      ['config', 'list', '--json'],
      ['config', 'get', 'server.url', '--json'],
      ['config', 'get', 'server.apiKey', '--json'],
      ['config', 'set', 'history.retentionDays', '7', '--json'],
      ['config', 'unset', 'history.retentionDays', '--json'],
      ['config', 'get', 'no.such.key', '--json'],
    ]) {
      const r = run(args)
      expect(() => JSON.parse(r.stdout), `${args.join(' ')}: ${r.stdout}`).not.toThrow()
    }
    const list = runJson(['config', 'list'])
    expect(Array.isArray(list.json)).toBe(true)
    const rows = list.json as Array<Record<string, unknown>>
    expect(rows.map((row) => row.key)).toContain('outbox.maxBytes')
    expect(rows.find((row) => row.key === 'process.maxConcurrentTasks')).toEqual({
      key: 'process.maxConcurrentTasks',
      value: 3,
      source: 'file',
      env: 'MAKIMA_DAEMON_PROCESS_MAXCONCURRENTTASKS',
    })
    expect(rows.find((row) => row.key === 'server.apiKey')).toEqual({
      key: 'server.apiKey',
      value: null,
      source: 'default',
      env: 'MAKIMA_DAEMON_SERVER_APIKEY',
    })
    expect(rows.find((row) => row.key === 'process.claudeArgs')).toMatchObject({env: null, source: 'default', value: []})
  })

  it('list prints a table with the source and env var of every key', () => {
    const r = run(['config', 'list'])
    expect(r.code).toBe(0)
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^KEY\s+VALUE\s+SOURCE\s+ENV$/)
    const row = lines.find((line) => line.startsWith('process.maxConcurrentTasks '))
    expect(row).toMatch(/^process\.maxConcurrentTasks\s+10\s+default\s+MAKIMA_DAEMON_PROCESS_MAXCONCURRENTTASKS$/)
  })

  it('process.claudeArgs round-trips as an array', () => {
    const set = runJson(['config', 'set', 'process.claudeArgs', '["--model","x"]'])
    expect(set.code).toBe(0)
    expect(set.json).toEqual({key: 'process.claudeArgs', value: ['--model', 'x']})
    expect(JSON.parse(readFileSync(configFile(), 'utf8'))).toEqual({process: {claudeArgs: ['--model', 'x']}})
    expect(runJson(['config', 'get', 'process.claudeArgs']).json).toEqual({
      key: 'process.claudeArgs',
      value: ['--model', 'x'],
      source: 'file',
    })

    const bad = run(['config', 'set', 'process.claudeArgs', 'not-json'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('process.claudeArgs')
  })
})
