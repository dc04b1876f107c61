// Orchestrator tasks through the built CLI against the REAL claude and a scripted API: the
// orchestrator's scripted run drives ./.makima/orchestrate.sh from its Bash tool (makima is not on
// PATH), its subtasks run in their own worktrees as detached runners; system prompts by role,
// the tool key in the orchestrator's claude environment and nowhere in makima's output or files.
import {existsSync, readdirSync, readFileSync, statSync} from 'node:fs'
import {delimiter, join} from 'node:path'
import Database from 'better-sqlite3'
import {describe, expect, test} from 'vitest'

import {ORCHESTRATOR_PROMPT, SUBTASK_PROMPT} from '../../src/lib/claude/prompts.js'
import {useCleanup} from '../support/cli.js'
import {pinnedClaudeDir, projectRoot} from '../support/env.js'
import {byPrompt, steps, type Script, type ScriptContext} from '../support/scripted-api.js'
import {taskWorld, type TaskWorld} from '../support/task-helpers.js'

useCleanup()

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/
const OS = './.makima/orchestrate.sh'
/** What the orchestrator's Bash tool prints about its own claude process (the env makima built). */
const CLAUDE_ENV = `tr '\\0' '\\n' < /proc/$PPID/environ | grep -E '^(MAKIMA_[A-Z_]*|CLAUDECODE|CLAUDE_CODE_ENTRYPOINT|CLAUDE_CODE_SESSION_ID)=' | sed 's/^/claude-env: /'`

/** What a subtask's Bash tool prints about its runner (claude's parent: `task run <id>`, forked from the orchestrator's Bash). */
const RUNNER_ENV = `R=$(awk '{print $4}' /proc/$PPID/stat); echo "runner-cmd: $(tr '\\0' ' ' < /proc/$R/cmdline)"; tr '\\0' '\\n' < /proc/$R/environ | grep -E '^(MAKIMA_TASK_ID|MAKIMA_API_[A-Z]*|CLAUDECODE|CLAUDE_CODE_ENTRYPOINT|CLAUDE_CODE_SESSION_ID|CLAUDE_CODE_CHILD_SESSION|CLAUDE_CODE_EXECPATH)=' | sed 's/^/runner-env: /'`

/** PATH without any directory holding a `makima` executable, so the helper must not rely on it. */
function pathWithoutMakima(path: string): string {
  return path
    .split(delimiter)
    .filter((dir) => dir && !existsSync(join(dir, 'makima')))
    .join(delimiter)
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`
}

/** The text of the last tool result the script received. */
function lastResult(ctx: ScriptContext): string {
  return ctx.toolResults.map((r) => r.content).join('\n')
}

/** Calls of the conversation whose plan contains `key`. */
function conversation(w: TaskWorld, key: string): ScriptContext[] {
  return w.api.calls.filter((c) => c.firstUserText.includes(key))
}

/** Every file under dir (recursively), for secret scans. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, {recursive: true, withFileTypes: true})
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
}

/** A task world whose PATH has the real claude first and no makima anywhere. */
function world(script: Script): Promise<TaskWorld> {
  return taskWorld(script, {PATH: pathWithoutMakima([pinnedClaudeDir(), join(projectRoot, 'node_modules', '.bin'), process.env.PATH ?? ''].join(delimiter))})
}

describe('an orchestrator task (task spawn --orchestrator)', () => {
  test('creates, starts and waits for two subtasks through .makima/orchestrate.sh without makima on PATH; tool key only in its claude env', async () => {
    let a = ''
    let b = ''
    const orchestrator = steps(
      {bash: `command -v makima; echo "makima-on-path=$?"; ${CLAUDE_ENV}; ls -l ${OS}; echo "porcelain:[$(git status --porcelain --untracked-files=all)]"`},
      {bash: `${OS} create "Part A" "SUBTASK-A write a.txt"`},
      (ctx) => {
        a = lastResult(ctx).match(UUID)?.[0] ?? 'no-id-from-create-A'
        return {bash: `${OS} create "Part B" "SUBTASK-B write b.txt"`}
      },
      (ctx) => {
        b = lastResult(ctx).match(UUID)?.[0] ?? 'no-id-from-create-B'
        return {bash: `${OS} start ${a} && ${OS} start ${b}`}
      },
      () => ({bash: `${OS} wait ${a}; ${OS} wait ${b}; ${OS} list; echo "worktree-a=$(${OS} worktree ${a})"; ${OS} done; echo "done-exit=$?"`}),
      {text: 'ORCHESTRATOR-FINISHED both parts are in'},
    )
    const subtaskStep = (file: string) => steps({bash: `echo made > ${file}; echo "sub-env id=$MAKIMA_TASK_ID key=\${MAKIMA_API_KEY:-none}"; ${CLAUDE_ENV}; ${RUNNER_ENV}`}, {text: `wrote ${file}`})
    const w = await world(byPrompt({'SUBTASK-A': subtaskStep('a.txt'), 'SUBTASK-B': subtaskStep('b.txt'), 'ORCH-PLAN': orchestrator}))

    const spawned = await w.makima(['task', 'spawn', '--orchestrator', '--detach', '--repo', w.repo.dir, 'ORCH-PLAN split the work in two'])
    expect(spawned.code, spawned.stderr).toBe(0)
    const orchId = spawned.stdout.trim()
    const waited = await w.makima(['task', 'wait', orchId, '--json'], {timeoutMs: 120_000})
    expect(waited.code, `${waited.stdout}\n${waited.stderr}`).toBe(0)
    const orch = JSON.parse(waited.stdout)
    expect(orch).toMatchObject({state: 'completed', isOrchestrator: true})

    const results = conversation(w, 'ORCH-PLAN').map(lastResult)
    const first = results[1] // answer to the first Bash step
    expect(first).toContain('makima-on-path=1')
    expect(first).toMatch(/-rwxr-xr-x .*orchestrate\.sh/)
    expect(first).toContain('porcelain:[]') // .makima/ is invisible to git
    const key = first.match(/claude-env: MAKIMA_API_KEY=([0-9a-f]+)/)?.[1]
    expect(key).toMatch(/^[0-9a-f]{64}$/)
    expect(first).toContain(`claude-env: MAKIMA_TASK_ID=${orchId}`)
    expect(first).toContain('claude-env: MAKIMA_API_URL=https://api.makima.jp')
    expect(first).not.toMatch(/claude-env: (CLAUDECODE|CLAUDE_CODE_ENTRYPOINT|CLAUDE_CODE_SESSION_ID)=/)

    // create printed the ids; both subtasks ended completed, each in its own worktree.
    expect(a).toMatch(UUID)
    expect(b).toMatch(UUID)
    const subtasks = await w.json(['task', 'list', '--parent', orchId])
    expect(subtasks.map((t: any) => t.id).sort()).toEqual([a, b].sort())
    const byId = new Map<string, any>(subtasks.map((t: any) => [t.id, t]))
    for (const [id, file, name] of [
      [a, 'a.txt', 'Part A'],
      [b, 'b.txt', 'Part B'],
    ]) {
      const t = byId.get(id)
      expect(t).toMatchObject({state: 'completed', parentTaskId: orchId, name, baseBranch: 'main', repoSource: w.repo.dir, isOrchestrator: false})
      expect(t.worktreePath).not.toBe(orch.worktreePath)
      expect(readFileSync(join(t.worktreePath, file), 'utf8')).toBe('made\n')
      expect(existsSync(join(orch.worktreePath, file))).toBe(false)
    }
    const last = results.at(-1)!
    expect(last).toContain(`worktree-a=${byId.get(a).worktreePath}`)
    expect(last).toMatch(new RegExp(`${a}\\tcompleted\\tPart A`))
    expect(last).toMatch(new RegExp(`${b}\\tcompleted\\tPart B`))
    expect(last).toContain('done-exit=0')

    // Subtasks: their own MAKIMA_TASK_ID (not the orchestrator's), no tool key, not "nested"; runners clean.
    for (const [id, plan] of [
      [a, 'SUBTASK-A'],
      [b, 'SUBTASK-B'],
    ]) {
      const sub = conversation(w, plan).map(lastResult).join('\n')
      expect(sub).toContain(`sub-env id=${id} key=none`)
      expect(sub).toContain(`claude-env: MAKIMA_TASK_ID=${id}`)
      expect(sub).not.toMatch(/claude-env: (MAKIMA_API_KEY|CLAUDECODE|CLAUDE_CODE_ENTRYPOINT|CLAUDE_CODE_SESSION_ID)=/)
      // its runner was started from the orchestrator's Bash tool, yet carries none of its markers
      expect(sub).toMatch(new RegExp(`runner-cmd: .*run\\.js task run ${id}`))
      expect(sub).not.toContain('runner-env:')
    }

    // System prompts by role.
    for (const c of conversation(w, 'ORCH-PLAN')) {
      expect(c.system).toContain(ORCHESTRATOR_PROMPT.trim())
      expect(c.system).not.toContain(SUBTASK_PROMPT.trim())
    }
    for (const c of [...conversation(w, 'SUBTASK-A'), ...conversation(w, 'SUBTASK-B')]) {
      expect(c.system).toContain(SUBTASK_PROMPT.trim())
      expect(c.system).not.toContain(ORCHESTRATOR_PROMPT.trim())
    }

    // The key is nowhere in makima's output: logs (plain and raw), show --json, list, runner logs,
    // and no file under MAKIMA_HOME (database, WAL, logs) holds it.
    const logs = await w.makima(['task', 'logs', orchId])
    const raw = await w.makima(['task', 'logs', '--raw', orchId])
    expect(raw.stdout).toContain('MAKIMA_API_KEY=[redacted]')
    const shown = await w.makima(['task', 'show', orchId, '--json'])
    const listed = await w.makima(['task', 'list', '--all', '--json'])
    for (const text of [logs.stdout, logs.stderr, raw.stdout, shown.stdout, listed.stdout]) expect(text).not.toContain(key!)
    const runnerLogs = filesUnder(join(w.t.makimaHome, 'logs'))
    expect(runnerLogs).toContain(join(w.t.makimaHome, 'logs', `${orchId}.log`))
    for (const file of filesUnder(w.t.makimaHome)) expect(readFileSync(file).includes(key!), file).toBe(false)

    // .makima/ stays out of git: status, diff.
    expect(statSync(join(orch.worktreePath, '.makima', 'orchestrate.sh')).mode & 0o777).toBe(0o755)
    expect(w.repo.git('-C', orch.worktreePath, 'status', '--porcelain', '--untracked-files=all')).toBe('')
    const diff = await w.makima(['task', 'diff', orchId])
    expect(diff.code, diff.stderr).toBe(0)
    expect(diff.stdout).not.toContain('.makima')
  }, 180_000)

  test('orchestrate.sh passes names and plans through intact (quotes, $(...), newlines, a leading dash), with --files and --continue-from; status, output, stop, done', async () => {
    const marker = join('/tmp', `makima-pwned-${process.pid}-${Date.now()}`)
    const trickyPlan = `-n SUBTASK-Q it's "quoted" $(touch ${marker}) \`touch ${marker}\` $HOME \\n\nsecond line; echo injected & exit 3\n\ttabbed 'last'`
    const trickyName = `Q "the" $(touch ${marker}) it's`
    let q = ''
    let r = ''
    const orchestrator = steps(
      {bash: `printf 'shared plan\\n' > PLAN.md && ${OS} create ${shellQuote(trickyName)} ${shellQuote(trickyPlan)} --files PLAN.md; echo "key=$MAKIMA_API_KEY"`},
      (ctx) => {
        q = lastResult(ctx).match(UUID)?.[0] ?? 'no-id-from-create-Q'
        return {bash: `${OS} start ${q} && ${OS} wait ${q} && ${OS} status ${q} && ${OS} output ${q}`}
      },
      () => ({bash: `R=$(${OS} create "Part R" "SUBTASK-R continue" --continue-from ${q}) && echo "R=$R" && ${OS} stop "$R"; ${OS} done; echo "done-exit=$?"`}),
      (ctx) => {
        r = lastResult(ctx).match(/R=([0-9a-f-]{36})/)?.[1] ?? 'no-id-from-create-R'
        return {text: 'ORCHESTRATOR-2 finished'}
      },
    )
    const w = await world(
      byPrompt({
        'SUBTASK-Q': steps({bash: 'cat PLAN.md; echo q > q.txt'}, {text: 'Q-FINAL-WORDS'}),
        'SUBTASK-R': {text: 'R should never run'},
        'ORCH2-PLAN': orchestrator,
      }),
    )
    // Attached: the transcript on stdout/stderr must not show the key either.
    const spawned = await w.makima(['task', 'spawn', '--orchestrator', '--repo', w.repo.dir, 'ORCH2-PLAN tricky plans'], {timeoutMs: 120_000})
    expect(spawned.code, spawned.stderr).toBe(0)
    const key = conversation(w, 'ORCH2-PLAN')[1].toolResults[0].content.match(/key=([0-9a-f]{64})/)?.[1]
    expect(key).toBeTruthy()
    expect(spawned.stdout).toContain('key=[redacted]')
    expect(`${spawned.stdout}${spawned.stderr}`).not.toContain(key!)

    const [orch] = (await w.json(['task', 'list', '--all'])).filter((t: any) => t.isOrchestrator)
    expect(q).toMatch(UUID)
    const task = await w.json(['task', 'show', q])
    expect(task).toMatchObject({state: 'completed', parentTaskId: orch.id, plan: trickyPlan, name: trickyName})
    expect(conversation(w, 'SUBTASK-Q')[0].firstUserText).toBe(trickyPlan)
    expect(existsSync(marker)).toBe(false)
    // --files copied PLAN.md from the orchestrator's worktree.
    expect(readFileSync(join(task.worktreePath, 'PLAN.md'), 'utf8')).toBe('shared plan\n')
    expect(conversation(w, 'SUBTASK-Q').map(lastResult).join('\n')).toContain('shared plan')

    const results = conversation(w, 'ORCH2-PLAN').map(lastResult)
    // status = task show (worktree path), output = task logs (Q's transcript)
    expect(results[2]).toContain(task.worktreePath)
    expect(results[2]).toContain('Q-FINAL-WORDS')
    // R: created pending with --continue-from Q, stopped before it ran.
    expect(r).toMatch(UUID)
    const rTask = await w.json(['task', 'show', r])
    expect(rTask).toMatchObject({state: 'interrupted', parentTaskId: orch.id, name: 'Part R'})
    const db = new Database(join(w.t.makimaHome, 'makima.db'), {readonly: true})
    try {
      expect(db.prepare('SELECT continue_from_task_id AS c FROM tasks WHERE id = ?').get(r)).toEqual({c: q})
    } finally {
      db.close()
    }
    expect(conversation(w, 'SUBTASK-R')).toHaveLength(0)
    // done: every subtask's final state; exit 1 because one did not complete.
    expect(results[3]).toMatch(new RegExp(`${q}\\tcompleted\\t`))
    expect(results[3]).toMatch(new RegExp(`${r}\\tinterrupted\\tPart R`))
    expect(results[3]).toContain('done-exit=1')
  }, 180_000)
})
