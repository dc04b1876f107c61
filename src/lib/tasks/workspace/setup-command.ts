import {spawn} from 'node:child_process'
import {accessSync, constants, lstatSync, statSync} from 'node:fs'
import path from 'node:path'
import {createInterface} from 'node:readline'

import {buildTaskEnvironment} from '../../claude/task-env.js'
import type {Config} from '../../config/types.js'
import {MakimaError} from '../../errors.js'
import {confinedPath} from '../../paths.js'
import type {TaskRecord} from '../../store/task-record.js'

export type HookKind = 'setup' | 'teardown'

/** A setup or teardown command: an executable committed as .makima/<kind>, or the configured shell command. */
export interface HookCommand {
  kind: HookKind
  /** how the command is named in progress lines and errors */
  display: string
  argv: string[]
}

/** A setup or teardown command that failed or timed out: its message is the task's error as it is. */
export class HookCommandError extends MakimaError {
  constructor(message: string) {
    super('FAILED', message)
  }
}

/** How many of the command's last output lines a failure names. */
const TAIL_LINES = 10

/**
 * The task's setup or teardown command: `.makima/<kind>` in the worktree when it is an executable
 * file inside it (the repository's file wins; a symbolic link out of the worktree is refused),
 * else worktree.setupCommand / worktree.teardownCommand run by /bin/sh, else none.
 */
export function hookCommandFor(kind: HookKind, worktreePath: string, config: Config): HookCommand | undefined {
  const relative = path.join('.makima', kind)
  if (exists(path.join(worktreePath, relative))) {
    const file = confinedPath(worktreePath, relative, `.makima/${kind}`)
    if (statSync(file).isFile() && executable(file)) return {kind, display: `.makima/${kind}`, argv: [file]}
  }
  const configured = kind === 'setup' ? config.worktree.setupCommand : config.worktree.teardownCommand
  return configured && configured.trim() ? {kind, display: configured, argv: ['/bin/sh', '-c', configured]} : undefined
}

/** The environment of a setup or teardown: the task's (as Claude Code gets it) plus where it runs and its port. */
export function hookEnvironment(task: TaskRecord, worktreePath: string, parentEnv: Record<string, string | undefined>): Record<string, string> {
  const env = buildTaskEnvironment(parentEnv, {taskId: task.id, taskPort: task.taskPort, contractId: task.contractId})
  env.MAKIMA_WORKTREE = worktreePath
  if (task.repoPath) env.MAKIMA_SOURCE_REPO = task.repoPath
  return env
}

export interface HookRun {
  cwd: string
  env: Record<string, string>
  timeoutSecs: number
  /** each output line (stdout and stderr) */
  progress: (line: string) => void
}

/**
 * Run a setup or teardown command in its own process group; every output line goes to
 * `progress`. When it runs longer than the timeout its whole group is killed. Throws FAILED
 * naming the command, its exit code (or the timeout) and its last output lines.
 */
export async function runHookCommand(hook: HookCommand, run: HookRun): Promise<void> {
  const tail: string[] = []
  const child = spawn(hook.argv[0], hook.argv.slice(1), {cwd: run.cwd, env: run.env, detached: true, stdio: ['ignore', 'pipe', 'pipe']})
  const onLine = (line: string) => {
    tail.push(line)
    if (tail.length > TAIL_LINES) tail.shift()
    run.progress(`${hook.kind}: ${line}`)
  }
  const readers = [child.stdout, child.stderr].map((stream) => {
    const rl = createInterface({input: stream, crlfDelay: Infinity})
    rl.on('line', onLine)
    return new Promise<void>((resolve) => rl.once('close', resolve))
  })
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    killGroup(child.pid)
  }, run.timeoutSecs * 1000)
  const exit = await new Promise<{code: number | null; signal: NodeJS.Signals | null; error?: Error}>((resolve) => {
    child.once('error', (error) => resolve({code: null, signal: null, error}))
    child.once('exit', (code, signal) => resolve({code, signal}))
  })
  clearTimeout(timer)
  // Output a background process of the command still holds is not waited for past a moment.
  await Promise.race([Promise.all(readers), new Promise((resolve) => setTimeout(resolve, 1000).unref())])
  child.stdout.destroy()
  child.stderr.destroy()
  if (!timedOut && !exit.error && exit.code === 0) return
  const last = tail.length > 0 ? `: ${tail.join('\n')}` : ' (no output)'
  const what = `${hook.kind} command \`${hook.display}\``
  if (exit.error) throw new HookCommandError(`${what} could not be started: ${exit.error.message}`)
  if (timedOut) throw new HookCommandError(`${what} timed out after ${run.timeoutSecs}s${last}`)
  const how = exit.code !== null ? `exited ${exit.code}` : `was killed by ${exit.signal}`
  throw new HookCommandError(`${what} ${how}${last}`)
}

function killGroup(pid: number | undefined): void {
  if (!pid) return
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // The group is gone already.
  }
}

function exists(p: string): boolean {
  try {
    lstatSync(p)
    return true
  } catch {
    return false
  }
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK)
    return true
  } catch {
    return false
  }
}
