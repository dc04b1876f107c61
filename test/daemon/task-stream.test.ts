// A server task end to end (docs/protocol.md "Delivery", "Daemon -> server messages"): spawnTask
// runs the real claude, and the server gets every status change, every stream-json line and
// progress line, and the completion, with strictly increasing seqs; the server going away
// mid-task loses nothing (resent after reconnect, no gap); no secret reaches the task.
import {gunzipSync} from 'node:zlib'
import {describe, expect, test} from 'vitest'

import {daemonWorld, sleep, useDaemonCleanup, type DaemonWorld} from '../support/daemon-world.js'
import {byPrompt, startScriptedApi, steps, type ScriptedApi} from '../support/scripted-api.js'
import {waitFor} from '../support/processes.js'
import {gate} from '../support/task-helpers.js'
import {outputChunks} from '../../src/lib/daemon/event-sink.js'

useDaemonCleanup()

const TICKS = 8
let api: ScriptedApi
const tickSteps = Array.from({length: TICKS}, (_, i) => ({bash: `echo tick-line-${i} | tee -a ticks.txt; sleep 0.2`}))
/** holds the final answer of 'tick slowly' until the test opens it */
const release = gate()

async function sharedApi(): Promise<ScriptedApi> {
  api ??= await startScriptedApi(
    byPrompt({
      'print the environment': steps({bash: 'env; echo env-printed'}, {text: 'environment printed'}),
      'say something huge': {text: `huge:${'H'.repeat(2.5 * 1024 * 1024)}:end`},
      'tick past the bound': steps(...Array.from({length: 8}, (_, i) => ({bash: `echo bound-line-${i}`})), {text: 'bound done'}),
      'tick slowly': steps(...tickSteps, async () => {
        await release.opened
        return {text: 'ticking done'}
      }),
    }),
  )
  return api
}

/** stdout lines the store recorded for the task (what `task logs --raw` prints) */
function storedLines(w: DaemonWorld, taskId: string, stream: string): string[] {
  return w.query('SELECT line FROM output WHERE task_id = ? AND stream = ? ORDER BY seq', taskId, stream).map((r) => r.line)
}

function expectIncreasing(seqs: number[]): void {
  for (let i = 1; i < seqs.length; i++) expect(seqs[i], `seq ${seqs[i]} after ${seqs[i - 1]} in ${seqs.join(',')}`).toBeGreaterThan(seqs[i - 1])
}

describe('spawnTask', () => {
  test('status changes, every stream-json and progress line, taskComplete, strictly increasing seqs; no secret in the task', async () => {
    const w = await daemonWorld(await sharedApi())
    const daemon = await w.startDaemon()
    const id = w.spawnTask('print the environment')
    const complete = await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === id, 60_000)
    expect(complete).toEqual({type: 'taskComplete', taskId: id, success: true, usage: expect.objectContaining({runs: 1, turns: 2, inputTokens: 2, outputTokens: 2}), seq: expect.any(Number)})
    expect(complete.usage.costUsd).toBeGreaterThan(0)

    // every daemon -> server message but authenticate/heartbeat has a seq, strictly increasing as sent
    const sent = w.server.messages.map((m) => m.msg).filter((m) => m.type !== 'authenticate' && m.type !== 'heartbeat')
    expect(sent.every((m) => Number.isInteger(m.seq))).toBe(true)
    expectIncreasing(sent.map((m) => m.seq))
    expect(sent[0].seq).toBe(1)
    expect(w.server.connections).toBe(1)
    expect(w.server.badFrames).toEqual([])

    const mine = w.taskMessages(id)
    const statuses = mine.filter((m) => m.type === 'taskStatusChange')
    expect(statuses.map((m) => m.newStatus)).toEqual(['initializing', 'starting', 'running', 'completed'])
    for (let i = 1; i < statuses.length; i++) expect(statuses[i].oldStatus).toBe(statuses[i - 1].newStatus)
    // per-task order: the completion comes last, after the final status
    expect(mine.at(-1).type).toBe('taskComplete')
    expect(mine.at(-2)).toMatchObject({type: 'taskStatusChange', newStatus: 'completed'})

    const outputs = mine.filter((m) => m.type === 'taskOutput')
    for (const o of outputs) expect(o).toEqual({type: 'taskOutput', taskId: id, output: expect.any(String), isPartial: false, seq: expect.any(Number)})
    // the raw stream-json lines, exactly as recorded (and as `task logs --raw` prints them)
    const streamLines = outputs.map((o) => o.output).filter((line: string) => line.startsWith('{'))
    expect(streamLines).toEqual(storedLines(w, id, 'stdout'))
    const raw = await w.makima(['task', 'logs', '--raw', id])
    expect(raw.code, raw.stderr).toBe(0)
    expect(raw.stdout.split('\n').filter((l) => l.startsWith('{'))).toEqual(streamLines)
    const types = streamLines.map((l: string) => JSON.parse(l).type)
    expect(types[0]).toBe('system')
    expect(types.at(-1)).toBe('result')
    // and the daemon's own progress lines
    const progress = outputs.map((o) => o.output).filter((line: string) => !line.startsWith('{'))
    expect(progress.some((l: string) => l.startsWith('Worktree ready at '))).toBe(true)
    expect(progress.some((l: string) => /^Claude Code started \(pid \d+\)/.test(l))).toBe(true)
    expect(progress).toEqual(storedLines(w, id, 'makima'))

    // the Bash tool printed its environment: the task marker is there, the server key is not
    const all = w.server.messages.map((m) => m.raw).filter((r) => !r.includes('"type":"authenticate"'))
    const toolOutput = api.calls.flatMap((c) => c.toolResults.map((r) => r.content)).join('\n')
    expect(toolOutput).toContain(`MAKIMA_TASK_ID=${id}`)
    expect(toolOutput).toContain('env-printed')
    expect(toolOutput).not.toContain(w.apiKey)
    expect(toolOutput).not.toContain('MAKIMA_DAEMON_SERVER_APIKEY')
    expect(all.join('\n')).toContain(`MAKIMA_TASK_ID=${id}`)
    expect(all.join('\n')).not.toContain(w.apiKey)

    await w.stopDaemon()
    expect(daemon.exit?.code).toBe(0)
    expect(daemon.stderr).toContain('connected and authenticated')
    expect(daemon.stderr).not.toContain(w.apiKey)
    const task = await w.json(['task', 'show', id])
    expect(task).toMatchObject({state: 'completed', origin: 'daemon'})
  })

  test('the server goes away mid-task and comes back: backoff, every unacked message resent in order, no gap, no lost line', async () => {
    const w = await daemonWorld(await sharedApi(), {extra: {MAKIMA_DAEMON_PROCESS_HEARTBEATCOMMITINTERVALSECS: '0.5'}})
    const daemon = await w.startDaemon()
    const id = w.spawnTask('tick slowly')
    const toolResult = (i: number) => (m: any) => m.type === 'taskOutput' && m.taskId === id && m.output.includes(`tick-line-${i}`) && m.output.includes('tool_result')
    await w.server.waitForMessage(toolResult(1), 60_000)
    // from here the server stores but does not acknowledge: these must be resent
    w.server.ack = 'off'
    await w.server.waitForMessage(toolResult(2), 30_000)
    const ackedAtClose = w.server.ackedSeq
    const receivedAtClose = Math.max(...w.server.uniqueSeqMessages().map((m) => m.seq))
    expect(receivedAtClose).toBeGreaterThan(ackedAtClose)
    await w.server.close()
    const closedAt = Date.now()
    const retries = () => [...daemon.stderr.matchAll(/reconnecting in /g)].length
    // the daemon has noticed (it retries) and the running task's output piles up in the outbox
    await waitFor(() => retries() >= 1 && w.query('SELECT max(seq) AS seq FROM outbox')[0].seq > receivedAtClose, {
      timeoutMs: 15_000,
      description: 'a retry logged and output past what the server received stored',
    })
    const away = await w.json(['daemon', 'status'])
    expect(away).toMatchObject({running: true, connection: expect.stringMatching(/^(waiting|connecting)$/), daemonId: w.server.daemonId})
    expect(away.activeTasks).toEqual([expect.objectContaining({id, state: 'running'})])
    expect(away.outbox.messages).toBeGreaterThan(0)
    expect(away.outbox.lastAckedSeq).toBe(ackedAtClose)
    expect(away.outbox.lastSeq).toBeGreaterThan(receivedAtClose)
    // the server stays away until the backoff has grown twice (three delays, checked below)
    await waitFor(() => retries() >= 3, {timeoutMs: 15_000, description: 'three reconnect delays logged'})
    w.server.ack = 'on'
    await w.server.restart()
    await w.server.waitForMessage(() => w.server.authenticated, 15_000)
    const reconnectMs = Date.now() - closedAt
    // every tick ran while the server was away or is resent now; then the task may end
    await w.server.waitForMessage(toolResult(TICKS - 1), 30_000)
    release.open()
    await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === id, 60_000)

    const auths = w.server.messagesOfType('authenticate')
    expect(auths).toHaveLength(2)
    expect(auths[0].lastAckedSeq).toBeNull()
    expect(auths[1].lastAckedSeq).toBe(ackedAtClose)
    expect(auths[1].activeTaskIds).toEqual([id])
    expect(w.server.connections).toBe(2)

    // the second connection starts with the first unacked message and goes on in seq order
    const second = w.server.messages.filter((m) => m.connection === 2 && typeof m.msg.seq === 'number').map((m) => m.msg.seq)
    expect(second[0]).toBe(ackedAtClose + 1)
    expectIncreasing(second)
    // resent messages are the same messages (same seq, same payload)
    const firstCopy = new Map(w.server.messages.filter((m) => m.connection === 1 && typeof m.msg.seq === 'number').map((m) => [m.msg.seq, m.raw]))
    for (const m of w.server.messages.filter((x) => x.connection === 2 && firstCopy.has(x.msg.seq))) expect(m.raw).toBe(firstCopy.get(m.msg.seq))
    // no gap: every seq from 1 to the last
    const seqs = w.server
      .uniqueSeqMessages()
      .map((m) => m.seq)
      .sort((a, b) => a - b)
    expect(seqs).toEqual(Array.from({length: seqs.length}, (_, i) => i + 1))
    // no lost line: the stream-json lines equal what the store recorded
    const streamLines = w
      .taskMessages(id)
      .filter((m) => m.type === 'taskOutput' && m.output.startsWith('{'))
      .map((m) => m.output)
    expect(streamLines).toEqual(storedLines(w, id, 'stdout'))
    expect(streamLines.filter((l: string) => l.includes('tool_result'))).toHaveLength(TICKS)
    const raw = await w.makima(['task', 'logs', '--raw', id])
    expect(raw.stdout.split('\n').filter((l) => l.startsWith('{'))).toHaveLength(streamLines.length)
    expect(
      w
        .taskMessages(id)
        .filter((m) => m.type === 'taskStatusChange')
        .map((m) => m.newStatus),
    ).toEqual(['initializing', 'starting', 'running', 'completed'])

    // heartbeat snapshots of the worktree reach the server as checkpointCreated, with their patch
    const task = await w.json(['task', 'show', id])
    const checkpoints = w.taskMessages(id).filter((m) => m.type === 'checkpointCreated')
    expect(checkpoints.length).toBeGreaterThan(0)
    const last = checkpoints.at(-1)
    expect(last).toMatchObject({taskId: id, success: true, commitSha: expect.stringMatching(/^[0-9a-f]{40}$/), patchBaseSha: task.baseSha})
    expect(gunzipSync(Buffer.from(last.patchData, 'base64')).toString()).toContain('+tick-line-')

    // backoff: the delays logged while the server was away grow (x2 with jitter 0.75..1.25)
    const delays = [...daemon.stderr.matchAll(/reconnecting in ([\d.]+)s/g)].map((m) => Number(m[1]))
    expect(delays.length, daemon.stderr).toBeGreaterThanOrEqual(3)
    expect(delays[0]).toBeLessThanOrEqual(0.25)
    expectIncreasing(delays)
    expect(reconnectMs).toBeLessThan(15_000)

    // a successful authenticate resets the backoff: the next outage starts from 0.2 s again
    await w.server.close()
    await w.server.restart()
    await w.server.waitForMessage(() => w.server.messagesOfType('authenticate').length === 3, 10_000)
    const after = [...daemon.stderr.matchAll(/reconnecting in ([\d.]+)s/g)].map((m) => Number(m[1]))
    expect(after[delays.length]).toBeLessThanOrEqual(0.25)
  })

  test('a server away for long: past outbox.maxMessages the oldest taskOutput is dropped, never a status or the completion', async () => {
    const w = await daemonWorld(await sharedApi())
    const set = await w.makima(['config', 'set', 'outbox.maxMessages', '12'])
    expect(set.code, set.stderr).toBe(0)
    const daemon = await w.startDaemon()
    const id = w.spawnTask('tick past the bound')
    await w.waitForStatus(id, 'running')
    await w.server.close()
    const ended = () => w.query('SELECT state FROM tasks WHERE id = ?', id)[0]?.state === 'completed'
    for (let i = 0; i < 300 && !ended(); i++) await sleep(100)
    expect(ended()).toBe(true)
    await daemon.waitForOutput(/outbox full: dropped the \d+ oldest taskOutput messages/, 5000, 'stderr')
    const away = await w.json(['daemon', 'status'])
    expect(away.outbox.messages).toBeLessThanOrEqual(12)

    await w.server.restart()
    const complete = await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === id, 20_000)
    expect(complete.success).toBe(true)
    const statuses = w
      .taskMessages(id)
      .filter((m) => m.type === 'taskStatusChange')
      .map((m) => m.newStatus)
    expect(statuses).toEqual(['initializing', 'starting', 'running', 'completed'])
    // what was lost is stream output only: the store has every line, the server fewer
    const received = w.taskMessages(id).filter((m) => m.type === 'taskOutput' && m.output.startsWith('{')).length
    expect(received).toBeLessThan(storedLines(w, id, 'stdout').length)
    const second = w.server.messages.filter((m) => m.connection === 2 && typeof m.msg.seq === 'number').map((m) => m.msg.seq)
    expectIncreasing(second)
    expect(second.length).toBeLessThanOrEqual(12)
  })

  test('a line longer than 1 Mi characters goes as isPartial chunks that concatenate to the line', async () => {
    const w = await daemonWorld(await sharedApi())
    await w.startDaemon()
    const id = w.spawnTask('say something huge')
    await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === id, 60_000)
    const outputs = w.taskMessages(id).filter((m) => m.type === 'taskOutput')
    expect(Math.max(...outputs.map((m) => m.output.length))).toBeLessThanOrEqual(1024 * 1024)
    expect(outputs.filter((m) => m.isPartial).length).toBeGreaterThanOrEqual(2)
    // reassembled: every run of partial chunks ends with a complete one, and gives the stored lines back
    const lines: string[] = []
    let pending = ''
    for (const m of outputs) {
      pending += m.output
      if (!m.isPartial) {
        lines.push(pending)
        pending = ''
      }
    }
    expect(pending).toBe('')
    expect(lines.filter((l) => l.startsWith('{'))).toEqual(storedLines(w, id, 'stdout'))
    expect(lines.some((l) => l.includes(`huge:${'H'.repeat(1000)}`) && l.includes(':end'))).toBe(true)
  })

  test('outputChunks never splits a surrogate pair', () => {
    const line = `${'a'.repeat(9)}😀${'b'.repeat(9)}` // the emoji is code units 9 and 10
    const chunks = outputChunks(line, 10)
    expect(chunks.map(([c]) => c).join('')).toBe(line)
    expect(chunks[0]).toEqual(['a'.repeat(9), true])
    expect(chunks.at(-1)![1]).toBe(false)
    expect(outputChunks('short', 10)).toEqual([['short', false]])
  })
})
