// Linux /proc helpers for assertions about real processes, and a polling helper.
import {readdirSync, readFileSync} from 'node:fs'

function readProc(pid: number, file: string): Buffer | undefined {
  try {
    return readFileSync(`/proc/${pid}/${file}`)
  } catch {
    return undefined // vanished or unreadable
  }
}

/** Pids of all processes currently in /proc (excluding this one). */
export function allPids(): number[] {
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return []
  }
  return entries
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((p) => p !== process.pid)
}

/** The environment of a process as a map; undefined if it vanished or cannot be read. */
export function processEnv(pid: number): Map<string, string> | undefined {
  const raw = readProc(pid, 'environ')
  if (raw === undefined) return undefined
  const env = new Map<string, string>()
  for (const entry of raw.toString('utf8').split('\0')) {
    const eq = entry.indexOf('=')
    if (eq > 0) env.set(entry.slice(0, eq), entry.slice(eq + 1))
  }
  return env
}

/** Pids whose /proc/<pid>/environ contains name=value (never this process). */
export function processesWithEnv(name: string, value: string): number[] {
  const wanted = `${name}=${value}`
  return allPids().filter((pid) => {
    const raw = readProc(pid, 'environ')
    return raw !== undefined && raw.toString('utf8').split('\0').includes(wanted)
  })
}

interface Stat {
  state: string
  ppid: number
  pgid: number
  sid: number
}

/** Fields of /proc/<pid>/stat after the command name; undefined if the process is gone. */
export function processStat(pid: number): Stat | undefined {
  const raw = readProc(pid, 'stat')?.toString('utf8')
  if (!raw) return undefined
  // The command name is in parentheses and may itself contain spaces or parentheses.
  const rest = raw.slice(raw.lastIndexOf(')') + 2).split(' ')
  return {state: rest[0], ppid: Number(rest[1]), pgid: Number(rest[2]), sid: Number(rest[3])}
}

/** State letter from /proc/<pid>/stat ('R', 'S', 'D', 'T' stopped, 't', 'Z', ...); undefined if gone. */
export function processState(pid: number): string | undefined {
  return processStat(pid)?.state
}

/** True while the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  const state = processState(pid)
  return state !== undefined && state !== 'Z' && state !== 'X'
}

/** Command line of a process (argv joined by spaces); undefined if gone. */
export function processCmdline(pid: number): string | undefined {
  const raw = readProc(pid, 'cmdline')
  return raw === undefined ? undefined : raw.toString('utf8').split('\0').filter(Boolean).join(' ')
}

/** Direct children of a process. */
export function childrenOf(pid: number): number[] {
  return allPids().filter((p) => processStat(p)?.ppid === pid)
}

/** A process and all its descendants (by ppid), the process first. */
export function descendantsOf(pid: number): number[] {
  const byParent = new Map<number, number[]>()
  for (const p of allPids()) {
    const ppid = processStat(p)?.ppid
    if (ppid === undefined) continue
    if (!byParent.has(ppid)) byParent.set(ppid, [])
    byParent.get(ppid)!.push(p)
  }
  const out: number[] = []
  const walk = (p: number) => {
    if (out.includes(p)) return
    out.push(p)
    for (const c of byParent.get(p) ?? []) walk(c)
  }
  walk(pid)
  return out
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal)
  } catch {
    // gone already
  }
}

/**
 * SIGKILLs every process whose environment has name=value, sweeping until none is left (a
 * process may fork while we kill). Returns the pids signalled.
 */
export function killProcessesWithEnv(name: string, value: string): number[] {
  const killed = new Set<number>()
  for (let round = 0; round < 10; round++) {
    const found = processesWithEnv(name, value).filter((p) => isAlive(p))
    if (found.length === 0) break
    for (const pid of found) {
      kill(pid, 'SIGKILL')
      killed.add(pid)
    }
  }
  return [...killed]
}

/** SIGKILLs a process and all its descendants (children first discovered, then signalled). */
export function killTree(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  for (const p of descendantsOf(pid)) kill(p, signal)
}

export interface WaitForOptions {
  timeoutMs?: number
  intervalMs?: number
  /** What is awaited, for the timeout message. */
  description?: string
}

/**
 * Polls fn until it returns a truthy value and returns that value. Errors thrown by fn count as
 * "not yet"; on timeout throws with the description and the last value or error.
 */
export async function waitFor<T>(fn: () => T | Promise<T>, {timeoutMs = 10_000, intervalMs = 50, description}: WaitForOptions = {}): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await fn()
      if (value) return value as NonNullable<T>
      last = value
    } catch (error) {
      last = error
    }
    if (Date.now() >= deadline) {
      const what = description ?? fn.toString().slice(0, 200)
      const lastText = last instanceof Error ? `threw ${last.message}` : `returned ${JSON.stringify(last)}`
      throw new Error(`waitFor timed out after ${timeoutMs} ms: ${what} (last ${lastText})`)
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs))
  }
}
