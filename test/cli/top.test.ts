// `makima top` against real tasks: the real claude talking to the scripted API, one task that
// completed and one whose Bash tool sleeps (so its process tree is alive). Without a terminal top
// prints one table (or --json rows); in a real pseudo-terminal (node-pty) its keys pause, resume
// and interrupt the task, open its log and quit, leaving the terminal as it found it.
import {execFileSync} from 'node:child_process'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'

import {binRun, useCleanup} from '../support/cli.js'
import {waitFor} from '../support/processes.js'
import {byPrompt, type ScriptContext} from '../support/scripted-api.js'
import {describeTaskProcesses, storedTasks, taskWorld, type TaskWorld} from '../support/task-helpers.js'

useCleanup({scope: 'all'})

const ENTER_ALT = '\u001b[?1049h'
const LEAVE_ALT = '\u001b[?1049l'
const SHOW_CURSOR = '\u001b[?25h'
const SLOW_COMMAND = 'echo warming up; sleep 300'

let w: TaskWorld
let fast: {id: string; shortId: string}
let slow: {id: string; shortId: string}

beforeAll(async () => {
  w = await taskWorld(
    byPrompt({
      'TOP-FAST': {text: 'fast task finished'},
      'TOP-SLOW': (ctx: ScriptContext) => (ctx.turn === 0 ? {bash: SLOW_COMMAND} : {text: 'never reached'}),
    }),
  )
  // Both detached, so their claude processes start side by side; the fast one is created first.
  const fastId: string = (await w.json(['task', 'spawn', '--repo', w.repo.dir, '--detach', '--name', 'quick one', 'TOP-FAST plan'])).taskId
  const slowId: string = (await w.json(['task', 'spawn', '--repo', w.repo.dir, '--detach', '--name', 'sleeper', 'TOP-SLOW plan'])).taskId
  const waited = await w.makima(['task', 'wait', fastId, '--timeout', '45'])
  expect(waited.code, waited.stderr).toBe(0)
  const tasks: {id: string; shortId: string}[] = await w.json(['task', 'list', '--all'])
  const shortOf = (id: string) => tasks.find((t) => t.id === id)!.shortId
  fast = {id: fastId, shortId: shortOf(fastId)}
  slow = {id: slowId, shortId: shortOf(slowId)}
  await waitFor(() => describeTaskProcesses(slow.id).some((p) => p.cmd === 'sleep 300'), {
    timeoutMs: 30_000,
    description: 'the slow task runs its Bash tool ("sleep 300")',
  })
}, 60_000)

const rowOf = (stdout: string, shortId: string) => stdout.split('\n').find((line) => line.startsWith(shortId))

describe('makima top without a terminal', () => {
  test('prints one table of the active tasks with CPU, RSS, cost, turns and the last output line; --all and --json', async () => {
    const r = await w.makima(['top'])
    expect(r.code, r.stderr).toBe(0)
    const [header] = r.stdout.split('\n')
    expect(header).toMatch(/^ID\s+STATE\s+AGE\s+CPU\s+RSS\s+COST\s+TURNS\s+NAME\s+LAST OUTPUT$/)
    expect(r.stdout).not.toContain('\u001b') // plain text
    expect(rowOf(r.stdout, fast.shortId)).toBeUndefined()
    const row = rowOf(r.stdout, slow.shortId)
    expect(row, r.stdout).toBeDefined()
    const cells = row!.split(/\s{2,}/)
    expect(cells.slice(0, 2)).toEqual([slow.shortId, 'running'])
    expect(cells[2]).toMatch(/^\d+[smhd]$/)
    expect(cells[3]).toMatch(/^\d+\.\d%$/)
    expect(cells[4]).toMatch(/^\d+(\.\d)?[KMG]$/)
    expect(Number.parseFloat(cells[4])).toBeGreaterThan(0)
    // the slow task's run has no result yet: no cost so far, one turn (its Bash tool call) counted from the stream
    expect(cells.slice(5, 7)).toEqual(['$0', '1'])
    expect(cells[7]).toBe('sleeper')
    expect(cells[8]).toBe(`⏺ Bash(${SLOW_COMMAND})`)

    const all = await w.makima(['top', '--all'])
    expect(all.code, all.stderr).toBe(0)
    expect(rowOf(all.stdout, slow.shortId)).toBeDefined()
    const fastCells = rowOf(all.stdout, fast.shortId)!.split(/\s{2,}/)
    expect(fastCells.slice(0, 2)).toEqual([fast.shortId, 'completed'])
    expect(fastCells.slice(3, 5)).toEqual(['-', '-'])
    expect(fastCells[5]).toMatch(/^\$0\.\d+$/)
    expect(fastCells[8]).toMatch(/^✓ done in /)

    const rows = await w.json(['top', '--all'])
    expect(rows.map((r: {id: string}) => r.id)).toEqual([fast.id, slow.id])
    expect(rows[0]).toMatchObject({state: 'completed', processes: 0, cpuPercent: null, rssBytes: null, costEstimated: false})
    expect(rows[0].costUsd).toBeGreaterThan(0)
    expect(rows[0].turns).toBeGreaterThan(0)
    expect(rows[0].lastLine).toMatch(/^✓ done in /)
    expect(rows[1]).toMatchObject({shortId: slow.shortId, name: 'sleeper', state: 'running', lastLine: `⏺ Bash(${SLOW_COMMAND})`})
    expect(rows[1].processes).toBeGreaterThanOrEqual(3) // claude, the Bash tool's shell, sleep
    expect(rows[1].rssBytes).toBeGreaterThan(20 * 1024 * 1024) // claude alone is far above
    expect(rows[1].cpuPercent).toBeGreaterThanOrEqual(0)
    expect(await w.json(['top'])).toHaveLength(1)
  }, 30_000)
})

interface Pty {
  pid: number
  write(data: string): void
  kill(signal?: string): void
  onData(listener: (data: string) => void): void
  onExit(listener: (e: {exitCode: number; signal?: number}) => void): void
}

/** `makima top` in a real pseudo-terminal, through a shell that keeps the terminal open a moment after top exits (node-pty can drop a last chunk). */
async function topInPty(args: string[]) {
  const pty = (await import('@lydell/node-pty')) as unknown as {spawn(file: string, args: string[], options: object): Pty}
  const env: NodeJS.ProcessEnv = {...w.t.env, TERM: 'xterm-256color'}
  delete env.CI
  const child = pty.spawn('/bin/sh', ['-c', '"$0" "$@"; code=$?; sleep 0.5; exit $code', process.execPath, binRun, 'top', ...args], {
    name: 'xterm-256color',
    cols: 160,
    rows: 30,
    cwd: w.repo.dir,
    env,
  })
  let output = ''
  let exit: {exitCode: number} | undefined
  child.onData((data) => (output += data))
  child.onExit((e) => (exit = e))
  const session = {
    get output() {
      return output
    },
    /** the output after the last full redraw began (the screen as it is now) */
    get frame() {
      return output.slice(output.lastIndexOf('\u001b[H'))
    },
    get exit() {
      return exit
    },
    press: (keys: string) => child.write(keys),
    until: (what: string, test: () => boolean, timeoutMs = 15_000) => waitFor(() => test() || undefined, {timeoutMs, description: `${what}; the screen:\n${JSON.stringify(session.frame)}`}),
    kill: () => child.kill('SIGKILL'),
    /** signal `makima top` itself (the pty runs it under /bin/sh) */
    signalTop: (signal: NodeJS.Signals) => {
      const pid = Number(
        execFileSync('pgrep', ['-P', String(child.pid)])
          .toString()
          .trim()
          .split('\n')[0],
      )
      process.kill(pid, signal)
    },
  }
  return session
}

describe('makima top in a terminal', () => {
  let session: Awaited<ReturnType<typeof topInPty>> | undefined
  afterAll(() => session?.kill())

  test('keys pause, resume and interrupt the selected task, open its log, and q restores the terminal', async () => {
    session = await topInPty(['--interval', '1'])
    const s = session
    const stateOf = (id: string) => storedTasks(w).find((t) => t.id === id)?.state
    await s.until('a frame with the running task', () => s.output.startsWith(ENTER_ALT) && new RegExp(`> ${slow.shortId}\\s+running\\s`).test(s.frame))
    expect(s.frame).toContain('Bash(echo warming up')
    expect(s.frame).not.toContain(fast.shortId)

    // l: the log in the same terminal, outside the full screen; Ctrl-C comes back to top
    s.press('l')
    await s.until('the log of the task', () => s.output.lastIndexOf(LEAVE_ALT) > 0 && s.output.slice(s.output.lastIndexOf(LEAVE_ALT)).includes(`Bash(${SLOW_COMMAND})`))
    s.press('\u0003')
    await s.until('top again after Ctrl-C', () => s.output.split(ENTER_ALT).length === 3 && s.frame.includes(slow.shortId))
    expect(s.exit).toBeUndefined()

    s.press('p')
    await s.until('the task paused in the store', () => stateOf(slow.id) === 'paused')
    await s.until('the status line', () => s.frame.includes(`Task ${slow.shortId} is paused.`))
    expect(describeTaskProcesses(slow.id).every((p) => p.state === 'T')).toBe(true)
    s.press('r')
    await s.until('the task running again', () => stateOf(slow.id) === 'running' && s.frame.includes(`Task ${slow.shortId} is running.`))
    s.press('p')
    await s.until('a second pause', () => stateOf(slow.id) === 'paused')
    s.press('p') // already paused: the error shows on the status line, nothing changes
    await s.until('the error on the status line', () => s.frame.includes(`only a running task can be paused`))

    s.press('i')
    await s.until('the question', () => s.frame.includes(`Interrupt task ${slow.shortId}`) && s.frame.includes('y/n'))
    s.press('n')
    await s.until('the answer taken', () => s.frame.includes(`Task ${slow.shortId} not interrupted.`))
    expect(stateOf(slow.id)).toBe('paused')
    s.press('i')
    await s.until('the question again', () => s.frame.includes('y/n'))
    s.press('y')
    await s.until('the task interrupted in the store', () => stateOf(slow.id) === 'interrupted', 30_000)
    await s.until('its row gone and the status line', () => s.frame.includes(`Task ${slow.shortId} is interrupted.`) && !s.frame.includes(`${slow.shortId}  `))
    expect(describeTaskProcesses(slow.id)).toEqual([])

    s.press('q')
    await s.until('top exited', () => s.exit !== undefined)
    expect(s.exit!.exitCode).toBe(0)
    expect(s.output.trimEnd().endsWith(LEAVE_ALT + SHOW_CURSOR), JSON.stringify(s.output.slice(-80))).toBe(true)
  }, 60_000)

  test('--all: j moves the selection, Enter shows an ended task log until a key is pressed, Ctrl-C quits with 130', async () => {
    session?.kill()
    session = await topInPty(['--all'])
    const s = session
    await s.until('a frame with both tasks', () => s.frame.includes(`> ${fast.shortId}  completed`) && s.frame.includes(`  ${slow.shortId}  interrupted`))
    s.press('j')
    await s.until('the second row selected', () => s.frame.includes(`> ${slow.shortId}  interrupted`))
    s.press('\r')
    await s.until('the whole log and the prompt', () => s.output.includes(`[end of the log of task ${slow.shortId}: press any key to return to makima top]`))
    expect(s.output.slice(s.output.lastIndexOf(LEAVE_ALT))).toContain(`Bash(${SLOW_COMMAND})`)
    s.press(' ')
    await s.until('top again, the selection kept', () => s.output.split(ENTER_ALT).length === 3 && s.frame.includes(`> ${slow.shortId}  interrupted`))
    s.press('\u0003')
    await s.until('top exited', () => s.exit !== undefined)
    expect(s.exit!.exitCode).toBe(130)
    expect(s.output.trimEnd().endsWith(LEAVE_ALT + SHOW_CURSOR)).toBe(true)
  }, 30_000)

  for (const [signal, code] of [
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    test(`${signal} (the terminal closing, a kill) restores the terminal and exits ${code}`, async () => {
      session?.kill()
      session = await topInPty(['--all'])
      const s = session
      await s.until('a frame with the tasks', () => s.output.startsWith(ENTER_ALT) && s.frame.includes(fast.shortId))
      s.signalTop(signal)
      await s.until('top exited', () => s.exit !== undefined)
      expect(s.exit!.exitCode).toBe(code)
      expect(s.output.trimEnd().endsWith(LEAVE_ALT + SHOW_CURSOR), JSON.stringify(s.output.slice(-80))).toBe(true)
    }, 30_000)
  }
})
