// Follow-up messages, API failures and the task environment, through the built CLI against the
// REAL claude and a scripted Anthropic API. Each test has its own API server, testEnv and repo.
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {describe, expect, test} from 'vitest'

import {useCleanup} from '../support/cli.js'
import {processEnv, waitFor} from '../support/processes.js'
import {steps, type ScriptContext} from '../support/scripted-api.js'
import {gate, taskWorld, toolResultsText} from '../support/task-helpers.js'

useCleanup()

const userMessages = (ctx: ScriptContext) => (ctx.body.messages as {role: string}[]).filter((m) => m.role === 'user').length

describe('task send', () => {
  test('to a running task, mid-tool: the message waits for the turn to end and gets its own answer', async () => {
    // The Bash tool runs until the test creates `release-gate` in the worktree (at most 30 s), so
    // the message is certainly sent while the tool runs.
    const w = await taskWorld((ctx) => {
      if (ctx.lastUserText.includes('second question')) return {text: 'answer to the second question'}
      if (ctx.toolResults.length > 0) return {text: 'first answer after the tool'}
      return {bash: 'for i in $(seq 300); do [ -e release-gate ] && break; sleep 0.1; done; echo tool-finished'}
    })
    const spawned = await w.makima(['task', 'spawn', '--detach', '--repo', w.repo.dir, 'first question'])
    expect(spawned.code, spawned.stderr).toBe(0)
    const id = spawned.stdout.trim()
    await waitFor(() => w.api.calls.length >= 1, {timeoutMs: 30_000, description: 'first API request'})
    const running = await w.json(['task', 'show', id])
    expect(running.state).toBe('running')

    const send = await w.makima(['task', 'send', id, 'second question'])
    expect(send.code, send.stderr).toBe(0)
    expect(w.api.calls).toHaveLength(1) // still inside the tool call (it waits for release-gate)
    writeFileSync(join(running.worktreePath, 'release-gate'), '')

    const wait = await w.makima(['task', 'wait', '--timeout', '30', id])
    expect(wait.code, wait.stdout + wait.stderr).toBe(0)
    // the message waited for the turn: the request with the tool's result came first, without
    // it, and the question came in a request of its own after that
    const toolResultCall = w.api.calls.findIndex((c) => c.toolResults.length > 0)
    const questionCall = w.api.calls.findIndex((c) => c.lastUserText === 'second question')
    expect(toolResultCall).toBeGreaterThan(0)
    expect(w.api.calls[toolResultCall].lastUserText).not.toContain('second question')
    expect(questionCall).toBeGreaterThan(toolResultCall)
    const logs = await w.makima(['task', 'logs', id])
    expect(logs.stdout).toContain('first answer after the tool')
    expect(logs.stdout).toContain('answer to the second question')
    expect((await w.json(['task', 'show', id])).state).toBe('completed')
  })

  test('to a completed task: resumes its Claude session with the conversation so far', async () => {
    const release = gate()
    const w = await taskWorld(async (ctx) => {
      if (!ctx.lastUserText.includes('follow-up please')) return {text: 'first run answered'}
      await release.opened
      return {text: 'follow-up answered'}
    })
    const first = await w.makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'the original plan'])
    expect(first.code, first.stderr).toBe(0)
    const done = JSON.parse(first.stdout)
    expect(done.state).toBe('completed')

    const send = await w.makima(['task', 'send', done.id.slice(0, 6), 'follow-up please'])
    expect(send.code, send.stderr).toBe(0)
    // Running again (the follow-up answer waits for the gate), then completed.
    await waitFor(async () => (await w.json(['task', 'show', done.id])).state === 'running', {
      timeoutMs: 30_000,
      description: 'the resumed task to be running',
    })
    release.open()
    const wait = await w.makima(['task', 'wait', '--timeout', '30', done.id])
    expect(wait.code, wait.stdout + wait.stderr).toBe(0)
    const after = await w.json(['task', 'show', done.id])
    expect(after).toMatchObject({state: 'completed', sessionId: done.sessionId, worktreePath: done.worktreePath})

    const followUp = w.api.calls.find((c) => c.lastUserText === 'follow-up please')
    expect(followUp, 'a request carrying the follow-up').toBeDefined()
    expect(userMessages(followUp!)).toBeGreaterThan(1)
    expect(followUp!.firstUserText).toContain('the original plan')
    expect(JSON.stringify(followUp!.body.messages)).toContain('first run answered')
    expect((await w.makima(['task', 'logs', done.id])).stdout).toContain('follow-up answered')
  })

  test('to a task without a session (pending): exit 4', async () => {
    const w = await taskWorld(steps({text: 'never'}))
    const created = await w.makima(['task', 'create', '--repo', w.repo.dir, 'not started'])
    const id = created.stdout.trim()
    const send = await w.makima(['task', 'send', id, 'hello?'])
    expect(send.code).toBe(4)
    expect(send.stderr).toMatch(/^Error: /m)
    expect((await w.json(['task', 'show', id])).state).toBe('pending')
    expect(w.api.calls).toHaveLength(0)
  })
})

describe('API failure', () => {
  test('a 500 fails the task quickly with the API error text (CLAUDE_CODE_MAX_RETRIES=0)', async () => {
    const w = await taskWorld(() => ({status: 500, error: 'scripted overload xyzzy'}), {CLAUDE_CODE_MAX_RETRIES: '0'})
    const started = Date.now()
    const r = await w.makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'doomed plan'])
    expect(Date.now() - started).toBeLessThan(30_000) // claude alone would retry for minutes
    expect(r.code).toBe(1)
    const task = JSON.parse(r.stdout)
    expect(task.state).toBe('failed')
    expect(task.error).toContain('scripted overload xyzzy')
    expect(w.api.messageRequests().length).toBeLessThanOrEqual(2) // no retry storm
  })
})

describe('task environment', () => {
  test("claude and its tool shells get MAKIMA_TASK_ID, never the server key nor a parent claude's markers", async () => {
    // As if makima were started from a Claude Code Bash tool, with a server key configured.
    const planted = {
      MAKIMA_DAEMON_SERVER_APIKEY: 'secret-server-key-4711',
      CLAUDECODE: 'planted-claudecode-by-test',
      CLAUDE_CODE_ENTRYPOINT: 'planted-by-test',
    }
    const release = gate()
    const w = await taskWorld(
      steps({bash: 'env'}, async () => {
        await release.opened
        return {text: 'printed the env'}
      }),
      planted,
    )
    const spawn = w.spawn(['task', 'spawn', '--json', '--repo', w.repo.dir, 'show me the env'])
    // claude itself (which resets CLAUDECODE/CLAUDE_CODE_ENTRYPOINT in its tool shells) is
    // checked while it runs: makima must not have passed the planted values to it.
    await waitFor(() => w.api.calls.length >= 2, {timeoutMs: 30_000, description: 'the tool result request'})
    const [running] = await w.json(['task', 'list'])
    const claudeEnv = processEnv(running.pid)
    expect(claudeEnv, `environment of claude (pid ${running.pid})`).toBeDefined()
    expect(claudeEnv!.get('MAKIMA_TASK_ID')).toBe(running.id)
    expect(claudeEnv!.has('MAKIMA_DAEMON_SERVER_APIKEY')).toBe(false)
    expect(claudeEnv!.has('CLAUDE_CODE_ENTRYPOINT')).toBe(false)
    expect(claudeEnv!.has('CLAUDECODE')).toBe(false)
    expect(claudeEnv!.get('MAKIMA_HOME')).toBe(w.t.makimaHome) // the rest passes through
    release.open()
    const r = await spawn.wait()
    expect(r.code, r.stderr).toBe(0)
    const task = JSON.parse(r.stdout)

    const fromApi = toolResultsText(w.api)
    const raw = (await w.makima(['task', 'logs', '--raw', task.id])).stdout
    for (const seen of [fromApi, raw]) {
      expect(seen).toContain(`MAKIMA_TASK_ID=${task.id}`)
      expect(seen).not.toContain('secret-server-key-4711')
      expect(seen).not.toContain('MAKIMA_DAEMON_SERVER_APIKEY')
      expect(seen).not.toContain('planted-by-test')
      expect(seen).not.toContain('planted-claudecode-by-test')
    }
  })
})
