// Proves the support layer against the REAL claude binary (no makima involved): the scripted API
// drives a Bash tool call, an API error, and a two-message stream-json chat.
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {jsonLines, runProcess, spawnProcess, useCleanup} from '../support/cli.js'
import {testEnv} from '../support/env.js'
import {makeRepo} from '../support/git-fixtures.js'
import {startScriptedApi, steps} from '../support/scripted-api.js'

useCleanup()

const CLAUDE_ARGS = ['-p', '--output-format', 'stream-json', '--input-format', 'stream-json', '--verbose', '--dangerously-skip-permissions']

const userLine = (text: string) => `${JSON.stringify({type: 'user', message: {role: 'user', content: text}})}\n`

describe('scripted API with the real claude CLI', () => {
  test('a Bash tool call runs in the repo and the turn finishes', async () => {
    const api = await startScriptedApi(steps({bash: 'echo hello > out.txt'}, {text: 'finished'}))
    const t = testEnv({apiUrl: api.url})
    const repo = makeRepo(t.root, {env: t.env})

    const r = await runProcess('claude', CLAUDE_ARGS, {env: t.env, cwd: repo.dir, input: userLine('write the file')})

    expect(r.code, r.stderr).toBe(0)
    expect(existsSync(join(repo.dir, 'out.txt'))).toBe(true)
    expect(readFileSync(join(repo.dir, 'out.txt'), 'utf8').trim()).toBe('hello')
    const results = jsonLines(r.stdout).filter((l) => l.type === 'result')
    expect(results).toHaveLength(1)
    expect(results[0]).toMatchObject({is_error: false, result: 'finished'})
    expect(api.messageRequests()).toHaveLength(2)
    expect(api.calls.map((c) => c.turn)).toEqual([0, 1])
    expect(api.calls[0].lastUserText).toBe('write the file')
    expect(api.calls[1].toolResults).toHaveLength(1)
    expect(api.calls[1].toolResults[0].is_error).toBe(false)
    expect(api.calls[1].lastUserText).toBe('write the file')
    expect(api.calls[0].system).toContain('Claude')
  })

  test('an API 500 with CLAUDE_CODE_MAX_RETRIES=0 ends in an error result quickly', async () => {
    const api = await startScriptedApi(() => ({status: 500}))
    const t = testEnv({apiUrl: api.url, extra: {CLAUDE_CODE_MAX_RETRIES: '0'}})
    const repo = makeRepo(t.root, {env: t.env})
    const started = Date.now()

    const r = await runProcess('claude', CLAUDE_ARGS, {
      env: t.env,
      cwd: repo.dir,
      input: userLine('fail please'),
      timeoutMs: 15_000,
    })

    expect(Date.now() - started).toBeLessThan(10_000)
    const results = jsonLines(r.stdout).filter((l) => l.type === 'result')
    expect(results).toHaveLength(1)
    expect(results[0]).toMatchObject({is_error: true, api_error_status: 500})
    expect(results[0].result).toContain('scripted failure')
  })

  test('a second user message on stdin gets its own turn and result', async () => {
    const api = await startScriptedApi(steps({text: 'first answer'}, {text: 'second answer'}))
    const t = testEnv({apiUrl: api.url})
    const repo = makeRepo(t.root, {env: t.env})

    const p = spawnProcess('claude', CLAUDE_ARGS, {env: t.env, cwd: repo.dir})
    p.write(userLine('first message'))
    await p.waitForOutput(/"type":"result"/, 30_000, 'stdout')
    p.write(userLine('second message'))
    p.end()
    const exit = await p.wait()

    expect(exit.code, exit.stderr).toBe(0)
    const results = jsonLines(exit.stdout).filter((l) => l.type === 'result')
    expect(results.map((r) => r.result)).toEqual(['first answer', 'second answer'])
    expect(results.every((r) => r.is_error === false)).toBe(true)
    expect(api.calls).toHaveLength(2)
    expect(api.calls[1].lastUserText).toBe('second message')
    expect(api.calls[1].firstUserText).toBe('first message')
    expect(api.calls[1].turn).toBe(1)
  })
})
