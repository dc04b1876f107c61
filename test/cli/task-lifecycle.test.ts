// The task lifecycle through the built CLI against the REAL claude and a scripted Anthropic API:
// attached and detached spawn, show/wait/logs, plans from stdin, create + start, temp workdirs.
// Each test has its own API server, testEnv (MAKIMA_HOME) and git repository.
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import Database from 'better-sqlite3'

import {useCleanup} from '../support/cli.js'
import {steps} from '../support/scripted-api.js'
import {describeTaskProcesses, gate, taskWorld, toolResultsText} from '../support/task-helpers.js'

useCleanup()

const TASK_FIELDS = [
  'id',
  'shortId',
  'name',
  'state',
  'plan',
  'repoSource',
  'baseBranch',
  'branch',
  'worktreePath',
  'parentTaskId',
  'isOrchestrator',
  'pid',
  'runnerPid',
  'exitCode',
  'error',
  'failureKind',
  'sessionId',
  'taskPort',
  'createdAt',
  'startedAt',
  'completedAt',
  'origin',
  'baseSha',
  'completionAction',
  'usage',
  'limits',
  'queuePosition',
  'rateLimitedUntil',
  'resumeAfterLimit',
]

describe('task spawn (attached)', () => {
  test('runs the Bash tool in the task worktree, not in the source repository, and records the task', async () => {
    const w = await taskWorld(steps({bash: 'echo from-the-task > made-by-task.txt'}, {text: 'Wrote made-by-task.txt for you.'}))
    const r = await w.makima(['task', 'spawn', '--repo', w.repo.dir, 'write a file please'])
    expect(r.code, r.stderr).toBe(0)
    // The transcript on stdout: the tool call with its command, then the final answer.
    expect(r.stdout).toContain('echo from-the-task > made-by-task.txt')
    expect(r.stdout).toContain('Wrote made-by-task.txt for you.')
    expect(r.stdout.indexOf('echo from-the-task')).toBeLessThan(r.stdout.indexOf('Wrote made-by-task.txt for you.'))

    const [listed] = await w.json(['task', 'list', '--all'])
    const task = await w.json(['task', 'show', listed.id])
    expect(task).toMatchObject({state: 'completed', origin: 'cli', baseSha: w.repo.head, repoSource: w.repo.dir, error: null})
    expect(task.sessionId).toMatch(/^[0-9a-f-]{36}$/)
    expect(task.shortId).toBe(task.id.slice(0, 8))
    expect(task.branch).toMatch(new RegExp(`^makima/${task.shortId}-`))
    expect(readFileSync(join(task.worktreePath, 'made-by-task.txt'), 'utf8')).toBe('from-the-task\n')
    expect(existsSync(join(w.repo.dir, 'made-by-task.txt'))).toBe(false)
    // The branch exists in the source repository and still points at the base (nothing committed).
    expect(w.repo.git('rev-parse', task.branch)).toBe(w.repo.head)
    expect(w.repo.git('status', '--porcelain')).toBe('')
  })

  test('--json prints exactly the final task object on stdout; the transcript goes to stderr', async () => {
    const w = await taskWorld(steps({bash: 'echo json-mode-tool'}, {text: 'json mode answer'}))
    const r = await w.makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'json plan'])
    expect(r.code, r.stderr).toBe(0)
    const task = JSON.parse(r.stdout) // throws unless stdout is exactly one JSON value
    expect(Object.keys(task).sort()).toEqual([...TASK_FIELDS].sort())
    expect(task).toMatchObject({state: 'completed', plan: 'json plan', origin: 'cli', baseSha: w.repo.head, exitCode: 0})
    expect(r.stdout).not.toContain('json mode answer')
    expect(r.stderr).toContain('echo json-mode-tool')
    expect(r.stderr).toContain('json mode answer')
  })
})

describe('task spawn --detach, wait, logs', () => {
  test('returns at once with the id; logs -f, wait, logs and logs --raw follow the background run', async () => {
    // The final answer is held back until the test opens the gate (then comes 3 s later).
    const release = gate()
    const w = await taskWorld(
      steps({bash: 'echo detached-tool-output'}, async () => {
        await release.opened
        return {delayMs: 3000, then: {text: 'detached final words'}}
      }),
    )
    const r = await w.makima(['task', 'spawn', '--detach', '--repo', w.repo.dir, 'detached plan'])
    expect(r.code, r.stderr).toBe(0)
    const id = r.stdout.trim()
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)

    const early = await w.json(['task', 'show', id])
    expect(['initializing', 'starting', 'running']).toContain(early.state)
    expect(early.worktreePath).toBeTruthy()
    expect(existsSync(early.worktreePath)).toBe(true)

    // logs -f on the running task prints what is there, keeps following, and returns only once
    // the task has ended, with the final text.
    const follow = w.spawn(['task', 'logs', '-f', id])
    await follow.waitForOutput(/echo detached-tool-output/, 30_000, 'stdout')
    expect(follow.exit, 'logs -f must not return while the task runs').toBeUndefined()
    expect(follow.stdout).not.toContain('detached final words')
    release.open()
    // the final words exist only from 3 s after the gate opened: printing them shows logs -f was
    // still following the running task then
    await follow.waitForOutput(/detached final words/, 30_000, 'stdout')
    const followed = await follow.wait()
    expect(followed.code, followed.stderr).toBe(0)
    expect((await w.json(['task', 'show', id])).state).toBe('completed')

    const wait = await w.makima(['task', 'wait', '--timeout', '30', id])
    expect(wait.code, wait.stderr).toBe(0)

    const logs = await w.makima(['task', 'logs', id])
    expect(logs.code).toBe(0)
    expect(logs.stdout).toContain('echo detached-tool-output')
    expect(logs.stdout).toContain('detached final words')

    const raw = await w.makima(['task', 'logs', '--raw', id])
    expect(raw.code).toBe(0)
    const lines = raw.stdout.split('\n').filter((l) => l.trim() !== '')
    const parsed = lines.map((l) => JSON.parse(l)) // every line is JSON
    expect(parsed.some((e) => e.type === 'result' && e.is_error === false)).toBe(true)
    expect(parsed.some((e) => e.type === 'assistant' && JSON.stringify(e).includes('detached final words'))).toBe(true)
  })
})

describe('plans', () => {
  test('"-" reads the plan from stdin and sends it as the first user message', async () => {
    const w = await taskWorld(steps({text: 'read your plan'}))
    const plan = 'Plan from stdin:\nline two of the plan\n'
    const r = await w.makima(['task', 'spawn', '--repo', w.repo.dir, '-'], {input: plan})
    expect(r.code, r.stderr).toBe(0)
    expect(w.api.calls[0].firstUserText).toContain('Plan from stdin:\nline two of the plan')
    const [task] = await w.json(['task', 'list', '--all'])
    expect(task.plan).toContain('line two of the plan')
  })

  test('an empty plan (argument or stdin) is bad input: exit 2, a message, nothing recorded', async () => {
    const w = await taskWorld(steps({text: 'should never be asked'}))
    const arg = await w.makima(['task', 'spawn', '--repo', w.repo.dir, ''])
    expect(arg.code).toBe(2)
    expect(arg.stderr).toMatch(/^Error: .*plan.*empty/m)
    const stdin = await w.makima(['task', 'spawn', '--repo', w.repo.dir, '-'], {input: ''})
    expect(stdin.code).toBe(2)
    expect(stdin.stderr).toMatch(/^Error: .*empty/m)
    const create = await w.makima(['task', 'create', '--repo', w.repo.dir, '   '])
    expect(create.code).toBe(2)
    expect(await w.json(['task', 'list', '--all'])).toEqual([])
    expect(w.api.calls).toHaveLength(0)
  })
})

describe('task create + task start', () => {
  test('a pending task holds no slot; start <prefix> runs it to completion', async () => {
    // One slot only: the pending task must not hold it, or the spawn below would be refused.
    const w = await taskWorld(steps({text: 'finished the work'}), {MAKIMA_DAEMON_PROCESS_MAXCONCURRENTTASKS: '1'})
    expect(await w.json(['config', 'get', 'process.maxConcurrentTasks'])).toMatchObject({value: 1, source: 'env'})
    const created = await w.makima(['task', 'create', '--repo', w.repo.dir, '--name', 'later', 'do it later'])
    expect(created.code, created.stderr).toBe(0)
    const id = created.stdout.trim()
    const listed = await w.json(['task', 'list'])
    expect(listed).toHaveLength(1)
    expect(listed[0]).toMatchObject({id, state: 'pending', worktreePath: null, pid: null})
    expect(w.api.calls).toHaveLength(0)

    const other = await w.makima(['task', 'spawn', '--repo', w.repo.dir, 'meanwhile another task'])
    expect(other.code, other.stderr).toBe(0)

    const start = await w.makima(['task', 'start', id.slice(0, 5)])
    expect(start.code, start.stderr).toBe(0)
    expect(start.stdout).toContain('finished the work')
    const task = await w.json(['task', 'show', id])
    expect(task).toMatchObject({state: 'completed', name: 'later', baseSha: w.repo.head})
    expect(existsSync(task.worktreePath)).toBe(true)
    expect(w.api.calls.some((c) => c.firstUserText.includes('do it later'))).toBe(true)
  })
})

describe('a task without a repository', () => {
  test('runs in $MAKIMA_HOME/temp/<id> and completes', async () => {
    const w = await taskWorld(steps({bash: 'pwd'}, {text: 'no repo needed'}))
    const r = await w.makima(['task', 'spawn', '--json', 'work without a repo'])
    expect(r.code, r.stderr).toBe(0)
    const task = JSON.parse(r.stdout)
    const expected = join(w.t.makimaHome, 'temp', task.id)
    expect(task).toMatchObject({state: 'completed', worktreePath: expected, repoSource: null, branch: null, baseSha: null})
    expect(existsSync(expected)).toBe(true)
    expect(toolResultsText(w.api)).toContain(expected) // the Bash tool ran there
  })
})

describe('output that cannot be stored', () => {
  test("stops Claude Code and fails the task with SQLite's reason, instead of crashing or running on blind", async () => {
    const w = await taskWorld(steps({bash: 'echo unstorable-marker; sleep 30'}, {text: 'never reached'}))
    expect((await w.makima(['task', 'list'])).code).toBe(0) // the database exists
    const db = new Database(join(w.t.makimaHome, 'makima.db'))
    db.exec("CREATE TRIGGER refuse BEFORE INSERT ON output WHEN NEW.line LIKE '%unstorable-marker%' BEGIN SELECT RAISE(ABORT, 'disk full (test)'); END")
    db.close()
    const started = Date.now()
    const r = await w.makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'print something'])
    expect(r.code, r.stderr).toBe(1)
    expect(Date.now() - started).toBeLessThan(25_000) // the 30 s sleep was not waited out
    const task = JSON.parse(r.stdout)
    expect(task.state).toBe('failed')
    expect(task.error).toContain("the task's output could not be stored, so Claude Code was stopped")
    expect(task.error).toContain('disk full (test)')
    expect(r.stderr).not.toMatch(/^\s+at /m) // no stack trace: nothing crashed
    expect(describeTaskProcesses(task.id)).toEqual([])
  })
})
