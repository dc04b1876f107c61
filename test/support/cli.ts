// Real child processes for tests: the built makima CLI (`node bin/run.js`) or any command (e.g.
// the real `claude`). Each child gets its own process group (detached) and is tracked, so
// killAllSpawned() can SIGKILL whatever a test left running.
import {spawn, type ChildProcess} from 'node:child_process'
import {join} from 'node:path'
import {afterAll, afterEach} from 'vitest'

import {cleanupAllTestEnvs, projectRoot} from './env.js'
import {descendantsOf} from './processes.js'
import {closeAllScriptedApis} from './scripted-api.js'

export const binRun = join(projectRoot, 'bin', 'run.js')

export interface SpawnOptions {
  /** The complete environment (e.g. testEnv().env). */
  env: NodeJS.ProcessEnv
  cwd?: string
  /** Written to stdin, which is then closed. Without it stdin stays open (write()/end()). */
  input?: string
}

export interface RunOptions extends SpawnOptions {
  /** Default 30000; on timeout the process group is killed and runCli throws. */
  timeoutMs?: number
}

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface SpawnedProcess {
  child: ChildProcess
  pid: number
  readonly stdout: string
  readonly stderr: string
  /** Set once the process has exited. */
  readonly exit: Exit | undefined
  write(text: string): void
  /** Closes stdin. */
  end(): void
  /** Resolves with the match once `re` matches the output so far; rejects on timeout or exit. */
  waitForOutput(re: RegExp, timeoutMs?: number, stream?: 'stdout' | 'stderr' | 'both'): Promise<RegExpMatchArray>
  /** Resolves when the process has exited (and its output is read). */
  wait(): Promise<Exit>
  /** Sends a signal to the process (default SIGTERM); `group: true` to its whole process group. */
  kill(signal?: NodeJS.Signals, opts?: {group?: boolean}): void
}

const spawned = new Set<SpawnedProcess>()

function signalSafe(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch {
    // gone already
  }
}

/** SIGKILLs every tracked child that is still running: descendants, then the process group. */
export function killAllSpawned(): void {
  for (const p of spawned) {
    if (p.exit === undefined) {
      for (const pid of descendantsOf(p.pid).reverse()) signalSafe(pid, 'SIGKILL')
      signalSafe(-p.pid, 'SIGKILL')
    }
  }
  spawned.clear()
}

/**
 * Registers the cleanup hooks in the calling test file: killAllSpawned after each test (or only
 * after all with scope 'all', for processes started in beforeAll), and after all tests also
 * closes every scripted API and removes every testEnv (killing processes still carrying its marker).
 */
export function useCleanup(opts: {scope?: 'each' | 'all'} = {}): void {
  if ((opts.scope ?? 'each') === 'each') afterEach(() => killAllSpawned())
  afterAll(async () => {
    killAllSpawned()
    await closeAllScriptedApis()
    cleanupAllTestEnvs()
  })
}

/** Spawns any command in its own process group, tracked for killAllSpawned(). */
export function spawnProcess(command: string, args: string[], opts: SpawnOptions): SpawnedProcess {
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  if (child.pid === undefined) throw new Error(`could not spawn ${command} ${args.join(' ')}`)
  let stdout = ''
  let stderr = ''
  let exit: Exit | undefined
  const listeners = new Set<() => void>()
  const notify = () => {
    for (const l of [...listeners]) l()
  }
  child.stdout!.setEncoding('utf8')
  child.stderr!.setEncoding('utf8')
  child.stdout!.on('data', (d: string) => {
    stdout += d
    notify()
  })
  child.stderr!.on('data', (d: string) => {
    stderr += d
    notify()
  })
  child.stdin!.on('error', () => {}) // EPIPE when the child exits before reading stdin

  const exited = new Promise<Exit>((resolve) => {
    let closeTimer: NodeJS.Timeout | undefined
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (exit) return
      if (closeTimer) clearTimeout(closeTimer)
      exit = {code, signal, stdout, stderr}
      resolve(exit)
      notify()
    }
    child.on('close', finish)
    // A grandchild holding stdout open would delay 'close' forever: settle shortly after 'exit'.
    child.on('exit', (code, signal) => {
      closeTimer = setTimeout(() => finish(code, signal), 500)
    })
    child.on('error', (err) => {
      stderr += `\n[spawn error] ${err.message}\n`
      finish(null, null)
    })
  })

  const handle: SpawnedProcess = {
    child,
    pid: child.pid,
    get stdout() {
      return stdout
    },
    get stderr() {
      return stderr
    },
    get exit() {
      return exit
    },
    write: (text) => {
      child.stdin!.write(text)
    },
    end: () => {
      child.stdin!.end()
    },
    waitForOutput: (re, timeoutMs = 20_000, stream = 'both') =>
      new Promise<RegExpMatchArray>((resolve, reject) => {
        const text = () => (stream === 'stdout' ? stdout : stream === 'stderr' ? stderr : `${stdout}\n${stderr}`)
        const done = () => {
          listeners.delete(check)
          clearTimeout(timer)
        }
        const describe = () => `\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`
        const check = () => {
          const m = text().match(re)
          if (m) {
            done()
            resolve(m)
          } else if (exit) {
            done()
            reject(new Error(`process exited (code ${exit.code}, signal ${exit.signal}) before output matched ${re}${describe()}`))
          }
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`timed out after ${timeoutMs} ms waiting for output ${re}${describe()}`))
        }, timeoutMs)
        listeners.add(check)
        check()
      }),
    wait: () => exited,
    kill: (signal = 'SIGTERM', {group = false} = {}) => signalSafe(group ? -child.pid! : child.pid!, signal),
  }
  spawned.add(handle)
  if (opts.input !== undefined) {
    child.stdin!.write(opts.input)
    child.stdin!.end()
  }
  return handle
}

/** Spawns the built makima CLI: `node bin/run.js ...args`. */
export function spawnCli(args: string[], opts: SpawnOptions): SpawnedProcess {
  return spawnProcess(process.execPath, [binRun, ...args], opts)
}

/** Runs a command to completion (stdin closed after `input`); throws on timeout. */
export async function runProcess(command: string, args: string[], opts: RunOptions): Promise<Exit> {
  const p = spawnProcess(command, args, {...opts, input: opts.input ?? ''})
  const timeoutMs = opts.timeoutMs ?? 30_000
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      for (const pid of descendantsOf(p.pid).reverse()) signalSafe(pid, 'SIGKILL')
      signalSafe(-p.pid, 'SIGKILL')
      reject(new Error(`${command} ${args.join(' ')} timed out after ${timeoutMs} ms\n--- stdout ---\n${p.stdout}\n--- stderr ---\n${p.stderr}`))
    }, timeoutMs)
  })
  try {
    return await Promise.race([p.wait(), timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Runs the built makima CLI to completion: `node bin/run.js ...args`. */
export async function runCli(args: string[], opts: RunOptions): Promise<{code: number | null; stdout: string; stderr: string}> {
  const {code, stdout, stderr} = await runProcess(process.execPath, [binRun, ...args], opts)
  return {code, stdout, stderr}
}

/** Parses each JSON line of a stream-json output (non-JSON lines are skipped). */
export function jsonLines(text: string): any[] {
  const out: any[] = []
  for (const line of text.split('\n')) {
    if (!line.trim().startsWith('{')) continue
    try {
      out.push(JSON.parse(line))
    } catch {
      // a partial last line
    }
  }
  return out
}
