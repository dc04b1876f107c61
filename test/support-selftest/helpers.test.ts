// Fast checks of the support helpers themselves (no claude): the fake API over plain fetch,
// testEnv isolation, git fixtures, tracked processes and /proc helpers.
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, describe, expect, test} from 'vitest'

import {killAllSpawned, runProcess, spawnProcess, useCleanup} from '../support/cli.js'
import {projectRoot, TEST_ENV_MARKER, testEnv} from '../support/env.js'
import {git, makeRepo} from '../support/git-fixtures.js'
import {isAlive, processesWithEnv, processState, waitFor} from '../support/processes.js'
import {byPrompt, startScriptedApi, steps, type ScriptedApi} from '../support/scripted-api.js'

useCleanup()

const body = (content: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({model: 'claude-test', max_tokens: 10, messages: [{role: 'user', content}], ...extra})

async function post(api: ScriptedApi, path: string, payload: string): Promise<{status: number; headers: Headers; json(): Promise<any>; text(): Promise<string>}> {
  return fetch(`${api.url}${path}`, {method: 'POST', headers: {'content-type': 'application/json'}, body: payload})
}

function sse(text: string): {event: string; data: any}[] {
  return text
    .split('\n\n')
    .filter((chunk) => chunk.trim() !== '')
    .map((chunk) => {
      const [eventLine, dataLine] = chunk.split('\n')
      return {event: eventLine.replace('event: ', ''), data: JSON.parse(dataLine.replace('data: ', ''))}
    })
}

describe('scripted API over HTTP', () => {
  test('streams a tool_use reply as the real API does', async () => {
    const api = await startScriptedApi(
      steps({
        blocks: [
          {type: 'text', text: 'hi'},
          {type: 'tool_use', name: 'Bash', input: {command: 'ls'}},
        ],
      }),
    )
    const res = await post(api, '/v1/messages?beta=true', body('go', {stream: true}))
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const events = sse(await res.text())
    expect(events.map((e) => e.event)).toEqual([
      'message_start',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'content_block_start',
      'content_block_delta',
      'content_block_stop',
      'message_delta',
      'message_stop',
    ])
    expect(events[2].data.delta).toEqual({type: 'text_delta', text: 'hi'})
    expect(events[4].data.content_block).toMatchObject({type: 'tool_use', name: 'Bash', input: {}})
    expect(JSON.parse(events[5].data.delta.partial_json)).toEqual({command: 'ls'})
    expect(events[7].data.delta.stop_reason).toBe('tool_use')
  })

  test('non-stream, count_tokens, HEAD and unknown paths', async () => {
    const api = await startScriptedApi(() => ({text: 'plain'}))
    const msg = await (await post(api, '/v1/messages', body('go'))).json()
    expect(msg).toMatchObject({type: 'message', role: 'assistant', content: [{type: 'text', text: 'plain'}], stop_reason: 'end_turn'})
    expect(await (await post(api, '/v1/messages/count_tokens', body('go'))).json()).toEqual({input_tokens: 1})
    expect((await fetch(api.url, {method: 'HEAD'})).status).toBe(200)
    const other = await post(api, '/v1/whatever', '{}')
    expect(other.status).toBe(404)
    expect(await other.json()).toEqual({})
    expect(api.requests.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /v1/messages', 'POST /v1/messages/count_tokens', 'HEAD /', 'POST /v1/whatever'])
    expect(api.messageRequests()).toHaveLength(1)
  })

  test('HTTP errors carry an Anthropic error body', async () => {
    const api = await startScriptedApi(() => ({status: 401, error: 'OAuth token has expired'}))
    const res = await post(api, '/v1/messages', body('go', {stream: true}))
    expect(res.status).toBe(401)
    expect(await res.json()).toEqual({type: 'error', error: {type: 'authentication_error', message: 'OAuth token has expired'}})
  })

  test('a delayed reply does not block others; a hanging one ends at close()', async () => {
    const api = await startScriptedApi(byPrompt({slow: {delayMs: 500, then: {text: 'late'}}, hang: {hang: true}, fast: {text: 'quick'}}))
    const started = Date.now()
    const hanging = post(api, '/v1/messages', body('hang')).then((r) => r.text())
    const slow = post(api, '/v1/messages', body('slow')).then((r) => r.json())
    const fast = await (await post(api, '/v1/messages', body('fast'))).json()
    expect(fast.content[0].text).toBe('quick')
    expect(Date.now() - started).toBeLessThan(400)
    expect((await slow).content[0].text).toBe('late')
    await api.close()
    await expect(hanging).rejects.toThrow()
  })

  test('context: system reminders skipped, tool results flattened, steps past the end', async () => {
    const api = await startScriptedApi(steps({bash: 'true'}, {text: 'last words'}))
    const messages = [
      {
        role: 'user',
        content: [
          {type: 'text', text: '<system-reminder>\nnoise\n</system-reminder>\n'},
          {type: 'text', text: 'task one'},
        ],
      },
      {role: 'system', content: 'mid-conversation system text'},
      {role: 'assistant', content: [{type: 'tool_use', id: 't1', name: 'Bash', input: {}}]},
      {role: 'user', content: [{type: 'tool_result', tool_use_id: 't1', content: [{type: 'text', text: 'out'}], is_error: true}]},
      {role: 'assistant', content: [{type: 'text', text: 'x'}]},
      {role: 'user', content: [{type: 'text', text: 'follow-up'}]},
    ]
    const payload = (n: number) =>
      JSON.stringify({
        model: 'm',
        system: [
          {type: 'text', text: 'S1'},
          {type: 'text', text: 'S2'},
        ],
        messages: messages.slice(0, n),
      })
    await post(api, '/v1/messages', payload(4))
    const reply = await (await post(api, '/v1/messages', payload(6))).json()
    expect(api.calls[0]).toMatchObject({
      turn: 1,
      lastUserText: 'task one',
      firstUserText: 'task one',
      toolResults: [{tool_use_id: 't1', content: 'out', is_error: true}],
      system: 'S1\nS2',
    })
    expect(api.calls[1]).toMatchObject({turn: 2, lastUserText: 'follow-up', firstUserText: 'task one', toolResults: []})
    expect(reply.content[0].text).toBe('last words')
  })
})

describe('environment, git and processes', () => {
  afterEach(() => killAllSpawned())

  test('testEnv isolates HOME and strips session variables', () => {
    process.env.CLAUDECODE = '1'
    process.env.CLAUDE_CODE_ENTRYPOINT = 'cli'
    process.env.MAKIMA_DAEMON_API_URL = 'http://leak'
    process.env.ANTHROPIC_AUTH_TOKEN = 'leak'
    try {
      const t = testEnv({apiUrl: 'http://127.0.0.1:1'})
      expect(t.root).toMatch(/makima-test-/)
      expect(t.env.HOME).toBe(t.home)
      expect(t.env.MAKIMA_HOME).toBe(t.makimaHome)
      expect(t.env.ANTHROPIC_BASE_URL).toBe('http://127.0.0.1:1')
      expect(t.env.CLAUDECODE).toBeUndefined()
      expect(t.env.CLAUDE_CODE_ENTRYPOINT).toBeUndefined()
      expect(t.env.MAKIMA_DAEMON_API_URL).toBeUndefined()
      expect(t.env.ANTHROPIC_AUTH_TOKEN).toBeUndefined()
      expect(t.env.CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC).toBe('1')
      expect(readFileSync(join(t.home, '.gitconfig'), 'utf8')).toContain('test@makima.invalid')
      t.cleanup()
      expect(existsSync(t.root)).toBe(false)
    } finally {
      delete process.env.CLAUDECODE
      delete process.env.CLAUDE_CODE_ENTRYPOINT
      delete process.env.MAKIMA_DAEMON_API_URL
      delete process.env.ANTHROPIC_AUTH_TOKEN
    }
  })

  test('makeRepo creates main with a pushed bare origin; claude resolves to the devDependency', async () => {
    const t = testEnv()
    const repo = makeRepo(t.root, {env: t.env, bare: true, files: {'a/b.txt': 'b\n'}})
    expect(git(repo.dir, 'branch', '--show-current')).toBe('main')
    expect(git(repo.dir, 'log', '-1', '--format=%an <%ae>')).toBe('makima test <test@makima.invalid>')
    expect(git(repo.remote!, 'rev-parse', 'main')).toBe(repo.head)
    expect(repo.git('ls-files')).toBe('a/b.txt')
    const which = await runProcess('sh', ['-c', 'command -v claude && claude --version'], {env: t.env})
    expect(which.stdout.trim()).toContain('node_modules/.cache/makima-test-bin/claude')
    const pinned = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')).devDependencies['@anthropic-ai/claude-code']
    expect(which.stdout).toContain(`${pinned} (Claude Code)`)
  })

  test('tracked processes, /proc helpers and env-marker sweep', async () => {
    const t = testEnv()
    // A grandchild in a session of its own escapes the group kill but not the marker sweep.
    const p = spawnProcess('sh', ['-c', 'setsid sleep 300 & echo started; sleep 300'], {env: t.env})
    await p.waitForOutput(/started/)
    const marked = await waitFor(() => (processesWithEnv(TEST_ENV_MARKER, t.id).length >= 3 ? processesWithEnv(TEST_ENV_MARKER, t.id) : null), {description: 'sh and two sleeps'})
    expect(marked).toContain(p.pid)
    expect(processState(p.pid)).toMatch(/[SRD]/) // running, sleeping, or waiting on the disk (a loaded machine)
    p.kill('SIGSTOP')
    await waitFor(() => processState(p.pid) === 'T', {description: 'stopped'})
    p.kill('SIGKILL', {group: true})
    const exit = await p.wait()
    expect(exit.signal).toBe('SIGKILL')
    expect(isAlive(p.pid)).toBe(false)
    expect(processesWithEnv(TEST_ENV_MARKER, t.id).filter(isAlive)).toHaveLength(1) // the setsid sleep
    t.cleanup()
    await waitFor(() => processesWithEnv(TEST_ENV_MARKER, t.id).filter(isAlive).length === 0, {description: 'marker sweep'})
  })

  test('waitFor throws with the description on timeout', async () => {
    await expect(waitFor(() => false, {timeoutMs: 100, description: 'never'})).rejects.toThrow(/never/)
  })
})
