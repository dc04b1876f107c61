// Server task roles through the built daemon, the REAL claude and a scripted API (docs/protocol.md
// spawnTask isSupervisor/contractId, registerToolKey, "Paths and secrets"): a supervisor and a
// contract task each get a tool key that the daemon registers before Claude Code runs, in their
// claude environment with MAKIMA_API_URL/MAKIMA_CONTRACT_ID, and nowhere else (no other message,
// not the daemon log); prompts by role; a supervisor sends no taskComplete and a message after
// it ended resumes its session (--resume).
import {randomUUID} from 'node:crypto'
import {statSync} from 'node:fs'
import {join} from 'node:path'
import {expect, test} from 'vitest'

import {CONTRACT_PROMPT, SUBTASK_PROMPT, SUPERVISOR_PROMPT} from '../../src/lib/claude/prompts.js'
import {daemonWorld, useDaemonCleanup} from '../support/daemon-world.js'
import {byPrompt, startScriptedApi, steps, type ScriptContext} from '../support/scripted-api.js'

useDaemonCleanup()

const API_URL = 'http://127.0.0.1:9/makima-api'
/** What a Bash tool prints about its own claude process (the environment makima built). */
const CLAUDE_ENV = `tr '\\0' '\\n' < /proc/$PPID/environ | grep -E '^(MAKIMA_[A-Z_]*|CLAUDECODE|CLAUDE_CODE_ENTRYPOINT)=' | sed 's/^/claude-env: /'`

const resultsText = (calls: ScriptContext[]) => calls.flatMap((c) => c.toolResults.map((r) => r.content)).join('\n')

test('supervisor and contract tasks: tool keys registered and only in claude env, prompts by role, no taskComplete for the supervisor, respawn with --resume', async () => {
  const api = await startScriptedApi(
    byPrompt({
      'SUPERVISOR-FOLLOWUP': {text: 'SUPERVISOR-RESUMED'},
      'SUPERVISOR-PLAN': steps({bash: `${CLAUDE_ENV}; ./.makima/orchestrate.sh list; echo "list-exit=$?"; echo "key=$MAKIMA_API_KEY"`}, {text: 'SUPERVISOR-FIRST-TURN'}),
      'CONTRACT-PLAN': steps({bash: CLAUDE_ENV}, {text: 'contract piece done'}),
    }),
  )
  const w = await daemonWorld(api, {extra: {MAKIMA_DAEMON_API_URL: API_URL}})
  await w.startDaemon()
  const contractId = randomUUID()
  const sup = w.spawnTask('SUPERVISOR-PLAN drive the contract', {isSupervisor: true, contractId})
  const piece = w.spawnTask('CONTRACT-PLAN one piece of the contract', {contractId})
  await w.waitForStatus(sup, 'completed', 60_000)
  await w.waitForStatus(piece, 'completed', 60_000)

  // One key per task, registered before its Claude Code ran.
  const registered = w.server.messagesOfType('registerToolKey')
  const keyOf = (id: string) => {
    const mine = registered.filter((m) => m.taskId === id)
    expect(mine, `registerToolKey for ${id}`).toHaveLength(1)
    expect(mine[0].toolKey).toMatch(/^[0-9a-f]{64}$/)
    const running = w.taskMessages(id).find((m) => m.type === 'taskStatusChange' && m.newStatus === 'running')
    expect(mine[0].seq).toBeLessThan(running.seq)
    return mine[0].toolKey as string
  }
  const supKey = keyOf(sup)
  const pieceKey = keyOf(piece)
  expect(supKey).not.toBe(pieceKey)

  // The keys are in each task's claude environment, with the API URL and the contract.
  const supCalls = api.calls.filter((c) => c.firstUserText.includes('SUPERVISOR-PLAN'))
  const pieceCalls = api.calls.filter((c) => c.firstUserText.includes('CONTRACT-PLAN'))
  for (const [id, key, calls] of [
    [sup, supKey, supCalls],
    [piece, pieceKey, pieceCalls],
  ] as const) {
    const text = resultsText(calls)
    expect(text).toContain(`claude-env: MAKIMA_API_KEY=${key}`)
    expect(text).toContain(`claude-env: MAKIMA_TASK_ID=${id}`)
    expect(text).toContain(`claude-env: MAKIMA_API_URL=${API_URL}`)
    expect(text).toContain(`claude-env: MAKIMA_CONTRACT_ID=${contractId}`)
    expect(text).not.toMatch(/claude-env: (CLAUDECODE|CLAUDE_CODE_ENTRYPOINT)=/)
  }
  // The supervisor drives makima through its helper.
  expect(resultsText(supCalls)).toContain('list-exit=0')
  const supTask = w.query('SELECT worktree_path AS path FROM tasks WHERE id = ?', sup)[0]
  expect(statSync(join(supTask.path, '.makima', 'orchestrate.sh')).mode & 0o777).toBe(0o755)

  // Prompts by role: the supervisor's covers its contract; a contract task gets the subtask prompt and the contract's.
  for (const c of supCalls) {
    expect(c.system).toContain(SUPERVISOR_PROMPT.trim())
    expect(c.system).not.toContain(SUBTASK_PROMPT.trim())
    expect(c.system).not.toContain(CONTRACT_PROMPT.trim())
  }
  for (const c of pieceCalls) {
    expect(c.system).toContain(SUBTASK_PROMPT.trim())
    expect(c.system).toContain(CONTRACT_PROMPT.trim())
  }

  // taskComplete for the contract task only.
  expect(w.server.messagesOfType('taskComplete').filter((m) => m.taskId === sup)).toHaveLength(0)
  expect(w.server.messagesOfType('taskComplete').filter((m) => m.taskId === piece)).toMatchObject([{success: true}])
  // The supervisor's output went out redacted.
  expect(w.taskMessages(sup).some((m) => m.type === 'taskOutput' && m.output.includes('key=[redacted]'))).toBe(true)

  // From the CLI, a message to the server's ended task is refused: resumed there it would run
  // outside the daemon, with a tool key the server never heard of.
  const fromCli = await w.makima(['task', 'send', sup, 'SUPERVISOR-FOLLOWUP from a shell'])
  expect(fromCli.code).toBe(4)
  expect(fromCli.stderr).toContain('send the message through the server')
  expect(w.server.messagesOfType('registerToolKey')).toHaveLength(2)

  // A message to the ended supervisor resumes its session.
  const from = w.server.messages.length
  w.server.send({type: 'sendMessage', taskId: sup, message: 'SUPERVISOR-FOLLOWUP what is next?'})
  await w.waitForStatus(sup, 'running', 30_000, from)
  await w.waitForStatus(sup, 'completed', 60_000, from)
  const followup = api.calls.find((c) => c.lastUserText.includes('SUPERVISOR-FOLLOWUP'))!
  expect(followup.firstUserText).toContain('SUPERVISOR-PLAN') // the same conversation, resumed
  expect(followup.turn).toBeGreaterThanOrEqual(2)
  expect(followup.system).toContain(SUPERVISOR_PROMPT.trim())
  expect(w.taskMessages(sup).some((m) => m.type === 'taskOutput' && m.output.includes('SUPERVISOR-RESUMED'))).toBe(true)
  expect(w.server.messagesOfType('taskComplete').filter((m) => m.taskId === sup)).toHaveLength(0)

  // No key and no server API key anywhere else: frames other than registerToolKey (and
  // authenticate for the API key), the daemon's log.
  await w.stopDaemon()
  for (const m of w.server.messages) {
    if (m.msg?.type !== 'registerToolKey') {
      expect(m.raw).not.toContain(supKey)
      expect(m.raw).not.toContain(pieceKey)
    }
    if (m.msg?.type !== 'authenticate') expect(m.raw).not.toContain(w.apiKey)
  }
  for (const secret of [supKey, pieceKey, w.apiKey]) expect(w.daemon!.stderr).not.toContain(secret)
}, 180_000)
