// Task roles without Claude Code: prompt selection, tool keys and redaction, the environment a
// task's claude gets, and the generated .makima/orchestrate.sh run by /bin/sh against a stand-in
// CLI entry (a node script that records the argv, stdin and MAKIMA_HOME it was given), so every
// verb's mapping to makima's commands and the quoting of arbitrary text are checked exactly.
import {spawnSync} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {afterAll, describe, expect, test} from 'vitest'

import {CONTRACT_PROMPT, ORCHESTRATOR_PROMPT, SUBTASK_PROMPT, SUPERVISOR_PROMPT, systemPromptFor} from '../../src/lib/claude/prompts.js'
import {loadConfig} from '../../src/lib/config/load.js'
import type {TaskRecord} from '../../src/lib/store/task-record.js'
import {orchestrateScript, writeOrchestrateScript} from '../../src/lib/tasks/roles/orchestrate-script.js'
import {setUpRole} from '../../src/lib/tasks/roles/role.js'
import {SecretRedactor} from '../../src/lib/secrets/redactor.js'
import {ToolKeys} from '../../src/lib/tasks/roles/tool-keys.js'
import {record} from '../support/store-fixtures.js'

const root = mkdtempSync(path.join(tmpdir(), 'makima-roles-'))
afterAll(() => rmSync(root, {recursive: true, force: true}))

function task(patch: Partial<TaskRecord> = {}): TaskRecord {
  return record(patch.id ?? '0f1e2d3c-4b5a-4697-8877-665544332211', {name: 'orch', state: 'running', plan: 'p', ...patch})
}

describe('system prompts', () => {
  const contractId = 'c0ffee00-0000-4000-8000-000000000000'
  test.each([
    [{}, [SUBTASK_PROMPT], [ORCHESTRATOR_PROMPT, SUPERVISOR_PROMPT, CONTRACT_PROMPT]],
    [{isOrchestrator: true}, [ORCHESTRATOR_PROMPT], [SUBTASK_PROMPT, SUPERVISOR_PROMPT, CONTRACT_PROMPT]],
    [{isSupervisor: true}, [SUPERVISOR_PROMPT], [SUBTASK_PROMPT, ORCHESTRATOR_PROMPT, CONTRACT_PROMPT]],
    [{isSupervisor: true, isOrchestrator: true, contractId}, [SUPERVISOR_PROMPT], [ORCHESTRATOR_PROMPT, CONTRACT_PROMPT]],
    [{contractId}, [SUBTASK_PROMPT, CONTRACT_PROMPT], [ORCHESTRATOR_PROMPT, SUPERVISOR_PROMPT]],
    [{isOrchestrator: true, contractId}, [ORCHESTRATOR_PROMPT, CONTRACT_PROMPT], [SUBTASK_PROMPT, SUPERVISOR_PROMPT]],
  ])('%j', (role, present, absent) => {
    const prompt = systemPromptFor({isOrchestrator: false, isSupervisor: false, contractId: null, ...role})
    for (const p of present) expect(prompt).toContain(p)
    for (const p of absent) expect(prompt).not.toContain(p)
  })

  test('the orchestrator and supervisor prompts name every verb of the helper', () => {
    for (const prompt of [ORCHESTRATOR_PROMPT, SUPERVISOR_PROMPT]) {
      for (const verb of ['list', 'create', 'start', 'wait', 'status', 'output', 'worktree', 'stop', 'done']) {
        expect(prompt).toContain(`./.makima/orchestrate.sh ${verb}`)
      }
      expect(prompt).toContain('--continue-from')
      expect(prompt).toContain('--files')
    }
    expect(CONTRACT_PROMPT).toContain('$MAKIMA_API_URL')
    expect(CONTRACT_PROMPT).toContain('$MAKIMA_API_KEY')
  })
})

describe('tool keys', () => {
  test('orchestrator, supervisor and contract tasks get one key each (32 random bytes, hex), kept per task; others none', () => {
    const made: [string, string][] = []
    const keys = new ToolKeys((id, key) => made.push([id, key]))
    const a = task({id: 'aaaaaaaa-0000-4000-8000-000000000000', isOrchestrator: true})
    const b = task({id: 'bbbbbbbb-0000-4000-8000-000000000000', isSupervisor: true})
    const c = task({id: 'cccccccc-0000-4000-8000-000000000000', contractId: 'c0ffee00-0000-4000-8000-000000000000'})
    const plain = task({id: 'dddddddd-0000-4000-8000-000000000000'})
    const ka = keys.keyFor(a)!
    expect(ka).toMatch(/^[0-9a-f]{64}$/)
    expect(keys.keyFor(a)).toBe(ka)
    const kb = keys.keyFor(b)!
    const kc = keys.keyFor(c)!
    expect(new Set([ka, kb, kc]).size).toBe(3)
    expect(keys.keyFor(plain)).toBeNull()
    expect(made).toEqual([
      [a.id, ka],
      [b.id, kb],
      [c.id, kc],
    ])
  })

  test('redaction takes out every key made and the other known secrets, and keeps a stream-json line valid JSON', () => {
    const keys = new ToolKeys(undefined, new SecretRedactor().add('server-api-key-123'))
    const t = task({isOrchestrator: true})
    const key = keys.keyFor(t)!
    const line = JSON.stringify({type: 'user', content: `MAKIMA_API_KEY=${key}\nother=${key} server-api-key-123`})
    const out = keys.redact(line)
    expect(out).not.toContain(key)
    expect(out).not.toContain('server-api-key-123')
    expect(JSON.parse(out).content).toBe('MAKIMA_API_KEY=[redacted]\nother=[redacted] [redacted]')
    expect(new SecretRedactor().add('abc').redact('abc abc')).toBe('abc abc') // too short to be a secret
  })
})

describe("a task's claude environment", () => {
  const parent = {
    PATH: '/usr/bin',
    MAKIMA_HOME: '/mk',
    ANTHROPIC_API_KEY: 'anthropic',
    MAKIMA_DAEMON_SERVER_APIKEY: 'server-secret',
    MAKIMA_DAEMON_SERVER_URL: 'ws://x',
    MAKIMA_TASK_ID: 'a-parent-task',
    MAKIMA_API_KEY: 'a-parent-key',
    MAKIMA_API_URL: 'http://parent',
    MAKIMA_CONTRACT_ID: 'parent-contract',
    CLAUDECODE: '1',
    CLAUDE_CODE_ENTRYPOINT: 'cli',
    CLAUDE_CODE_SESSION_ID: 's',
    CLAUDE_CODE_CHILD_SESSION: '1',
    CLAUDE_CODE_EXECPATH: '/x/claude',
  }
  const config = {...loadConfig({env: {MAKIMA_HOME: path.join(root, 'home'), MAKIMA_DAEMON_API_URL: 'http://api.example'}}), home: path.join(root, 'home')}

  test('a plain task: its own MAKIMA_TASK_ID only; nothing of a parent task, makima secrets or Claude Code nesting markers', () => {
    const t = task({worktreePath: path.join(root, 'plain')})
    const {env, appendSystemPrompt} = setUpRole(t, config, parent, {toolKeys: new ToolKeys()})
    expect(env).toEqual({PATH: '/usr/bin', MAKIMA_HOME: '/mk', ANTHROPIC_API_KEY: 'anthropic', MAKIMA_DAEMON_SERVER_URL: 'ws://x', MAKIMA_TASK_ID: t.id})
    expect(appendSystemPrompt).toBe(SUBTASK_PROMPT)
    expect(existsSync(path.join(root, 'plain', '.makima'))).toBe(false)
  })

  test('an orchestrator of a contract: tool key, API URL, contract id, and the helper script in its worktree', () => {
    const worktree = path.join(root, 'orch')
    mkdirSync(worktree)
    const keys = new ToolKeys()
    const t = task({isOrchestrator: true, contractId: 'c0ffee00-0000-4000-8000-000000000000', worktreePath: worktree})
    const {env, warning} = setUpRole(t, config, parent, {toolKeys: keys, makimaEntry: {execPath: process.execPath, script: '/opt/makima/bin/run.js'}})
    expect(warning).toBeUndefined()
    expect(env).toMatchObject({MAKIMA_TASK_ID: t.id, MAKIMA_API_URL: 'http://api.example', MAKIMA_API_KEY: keys.keyFor(t), MAKIMA_CONTRACT_ID: t.contractId})
    expect(env.MAKIMA_DAEMON_SERVER_APIKEY).toBeUndefined()
    expect(env.CLAUDECODE).toBeUndefined()
    const script = path.join(worktree, '.makima', 'orchestrate.sh')
    expect(statSync(script).mode & 0o777).toBe(0o755)
    expect(readFileSync(script, 'utf8')).toContain(`MAKIMA_HOME='${config.home}'`)
    expect(readFileSync(script, 'utf8')).not.toContain(keys.keyFor(t)!)
  })

  test('without an entry point the helper is not written and the run is told why', () => {
    const worktree = path.join(root, 'noentry')
    mkdirSync(worktree)
    const {warning} = setUpRole(task({isSupervisor: true, worktreePath: worktree}), config, parent, {})
    expect(warning).toMatch(/orchestrate\.sh was not written/)
    expect(existsSync(path.join(worktree, '.makima'))).toBe(false)
  })
})

describe('.makima/orchestrate.sh', () => {
  // A stand-in for `bin/run.js`: records what the script ran it with; answers the --json reads.
  const fake = path.join(root, "fake cli's dir", 'run.js')
  const record = path.join(root, 'calls.jsonl')
  mkdirSync(path.dirname(fake), {recursive: true})
  writeFileSync(
    fake,
    `const fs = require('fs')
const argv = process.argv.slice(2)
let stdin = ''
if (argv.at(-1) === '-') stdin = fs.readFileSync(0, 'utf8')
fs.appendFileSync(${JSON.stringify(record)}, JSON.stringify({argv, stdin, home: process.env.MAKIMA_HOME}) + '\\n')
if (argv[1] === 'show' && argv.includes('--json')) console.log(JSON.stringify({worktreePath: process.env.FAKE_WORKTREE || null}))
else if (argv[1] === 'list' && argv.includes('--json')) console.log(process.env.FAKE_LIST || '[]')
else if (argv[1] === 'create') console.log('11111111-2222-4333-8444-555555555555')
else console.log('ran ' + argv.join(' '))
process.exit(Number(process.env.FAKE_EXIT || 0))
`.replaceAll("require('fs')", 'require("fs")'),
  )
  writeFileSync(path.join(path.dirname(fake), 'package.json'), '{"type": "commonjs"}')
  const home = path.join(root, "makima home with 'quotes' $HOME")
  const worktree = path.join(root, 'wt')
  mkdirSync(worktree)
  const orch = task({
    id: '99999999-8888-4777-8666-555555555555',
    isOrchestrator: true,
    worktreePath: worktree,
    repoPath: path.join(root, "repo with space and 'quote'"),
    baseBranch: 'feature/x',
  })
  const script = writeOrchestrateScript(orch, {execPath: process.execPath, script: fake}, home)

  function run(args: string[], env: Record<string, string> = {}) {
    rmSync(record, {force: true})
    const r = spawnSync('/bin/sh', [script, ...args], {cwd: worktree, encoding: 'utf8', env: {PATH: '/usr/bin:/bin', ...env}})
    const calls = existsSync(record)
      ? readFileSync(record, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as {argv: string[]; stdin: string; home: string})
      : []
    return {code: r.status, stdout: r.stdout, stderr: r.stderr, calls}
  }

  test('create: task create with the parent, repository and base written in; name, files and continue-from as single arguments; the plan through stdin', () => {
    const plan = `-n it's "quoted" $(touch ${root}/pwned) \`id\` $HOME \\n\nline two\n\ttab; exit 3 &`
    const name = `a "name" $(id) it's`
    const r = run(['create', name, plan, '--files', 'PLAN.md,spec dir/a b.yaml', '--continue-from', 'abcd1234'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.trim()).toBe('11111111-2222-4333-8444-555555555555')
    expect(r.calls).toEqual([
      {
        argv: ['task', 'create', `--parent=${orch.id}`, `--name=${name}`, `--repo=${orch.repoPath}`, '--base-branch=feature/x', '--files=PLAN.md,spec dir/a b.yaml', '--continue-from=abcd1234', '-'],
        stdin: plan,
        home,
      },
    ])
    expect(existsSync(path.join(root, 'pwned'))).toBe(false)
    expect(run(['create', 'n', 'p', '--files=a', '--continue-from=x']).calls[0].argv.slice(-3)).toEqual(['--files=a', '--continue-from=x', '-'])
  })

  test('create without a repository (temp-dir orchestrator) passes no --repo/--base-branch', () => {
    const bare = writeOrchestrateScript(task({isOrchestrator: true, worktreePath: path.join(root, 'wt2')}), {execPath: process.execPath, script: fake}, home)
    rmSync(record, {force: true})
    spawnSync('/bin/sh', [bare, 'create', 'n', 'p'], {encoding: 'utf8', env: {PATH: '/usr/bin:/bin'}})
    const [call] = readFileSync(record, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    expect(call.argv).toEqual(['task', 'create', '--parent=0f1e2d3c-4b5a-4697-8877-665544332211', '--name=n', '-'])
  })

  test.each([
    [['list'], ['task', 'list', '--all', '--parent=99999999-8888-4777-8666-555555555555']],
    [
      ['start', 'abcd'],
      ['task', 'start', 'abcd', '--detach'],
    ],
    [
      ['wait', 'abcd'],
      ['task', 'wait', 'abcd'],
    ],
    [
      ['status', 'abcd'],
      ['task', 'show', 'abcd'],
    ],
    [
      ['output', 'abcd'],
      ['task', 'logs', 'abcd'],
    ],
    [
      ['stop', 'abcd'],
      ['task', 'interrupt', 'abcd'],
    ],
  ])('%j runs makima %j and passes its output and exit code through', (args, argv) => {
    const r = run(args, {FAKE_EXIT: '4'})
    expect(r.calls.map((c) => c.argv)).toEqual([argv])
    expect(r.calls[0].home).toBe(home)
    expect(r.stdout).toContain(`ran ${argv.join(' ')}`)
    expect(r.code).toBe(4)
  })

  test('worktree prints the worktreePath of task show --json (read with node, no jq), and fails without one', () => {
    const ok = run(['worktree', 'abcd'], {FAKE_WORKTREE: '/some where/wt'})
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout).toBe('/some where/wt\n')
    expect(ok.calls.map((c) => c.argv)).toEqual([['task', 'show', 'abcd', '--json']])
    const none = run(['worktree', 'abcd'])
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/no worktree/)
  })

  test('done waits for every started subtask and prints each final state; exit 1 unless all completed', () => {
    const list = JSON.stringify([
      {id: 'aaaaaaaa-0000-4000-8000-000000000000', state: 'completed', name: 'A  part', error: null},
      {id: 'bbbbbbbb-0000-4000-8000-000000000000', state: 'failed', name: 'B', error: 'it broke\nbadly'},
      {id: 'cccccccc-0000-4000-8000-000000000000', state: 'pending', name: 'C', error: null},
    ])
    const r = run(['done', 'summary text'], {FAKE_LIST: list})
    expect(r.code).toBe(1)
    const waited = r.calls.filter((c) => c.argv[1] === 'wait').map((c) => c.argv[2])
    expect(waited).toEqual(['aaaaaaaa-0000-4000-8000-000000000000', 'bbbbbbbb-0000-4000-8000-000000000000'])
    expect(r.stdout).toBe(
      [
        'aaaaaaaa-0000-4000-8000-000000000000\tcompleted\tA part',
        'bbbbbbbb-0000-4000-8000-000000000000\tfailed\tB - it broke badly',
        'cccccccc-0000-4000-8000-000000000000\tpending (never started)\tC',
        'summary: summary text',
        '',
      ].join('\n'),
    )
    const allDone = run(['done'], {FAKE_LIST: JSON.stringify([{id: 'aaaaaaaa-0000-4000-8000-000000000000', state: 'completed', name: 'A', error: null}])})
    expect(allDone.code).toBe(0)
    expect(run(['done']).stdout).toBe('no subtasks\n')
  })

  test('bad usage: exit 2 with a usage text, nothing run', () => {
    for (const args of [[], ['nope'], ['create', 'only-a-name'], ['start'], ['start', '--help'], ['wait', 'a', 'b'], ['create', 'n', 'p', '--bogus'], ['list', 'x']]) {
      const r = run(args)
      expect(r.code, args.join(' ')).toBe(2)
      expect(r.stderr).toContain('usage: ./.makima/orchestrate.sh')
      expect(r.calls).toEqual([])
    }
  })

  test('the script is plain sh with no eval, and regenerating it keeps mode 0755', () => {
    const text = orchestrateScript(orch, {execPath: process.execPath, script: fake}, home)
    expect(text.startsWith('#!/bin/sh\n')).toBe(true)
    expect(text).not.toMatch(/\beval\b/)
    writeOrchestrateScript(orch, {execPath: process.execPath, script: fake}, home)
    expect(statSync(script).mode & 0o777).toBe(0o755)
    expect(spawnSync('/bin/sh', ['-n', script]).status).toBe(0)
  })
})
