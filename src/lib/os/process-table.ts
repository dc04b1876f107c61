import {readdirSync, readFileSync} from 'node:fs'

/**
 * What the kernel knows about processes, read from /proc (Linux). Elsewhere the functions
 * degrade to what `process.kill(pid, 0)` can tell.
 */
const HAS_PROC = process.platform === 'linux'

export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  // A zombie is dead for our purposes (it only waits to be reaped).
  return procStat(pid)?.state !== 'Z'
}

export interface ProcStat {
  pid: number
  ppid: number
  state: string
  startTime: string
  /** utime + stime, clock ticks */
  cpuTicks: number
}

export function procStat(pid: number): ProcStat | undefined {
  if (!HAS_PROC) return undefined
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // comm (field 2) may contain spaces and parentheses: split after the last ')'.
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ')
  return {pid, state: rest[0], ppid: Number(rest[1]), startTime: rest[19], cpuTicks: Number(rest[11]) + Number(rest[12])}
}

/** A token that identifies this incarnation of a pid (its start time), or '' when unknown. */
export function processStartToken(pid: number): string {
  return procStat(pid)?.startTime ?? ''
}

/** Is `pid` alive and still the same process that had start token `token`? */
export function isSameProcessAlive(pid: number, token: string | null): boolean {
  if (!isPidAlive(pid)) return false
  if (!token || !HAS_PROC) return true
  return processStartToken(pid) === token
}

export function listProcesses(): ProcStat[] {
  if (!HAS_PROC) return []
  const out: ProcStat[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const stat = procStat(Number(entry))
    if (stat) out.push(stat)
  }
  return out
}

/** The value of variable `name` in a process's environment (undefined when none or unreadable). */
export function environValue(pid: number, name: string): string | undefined {
  if (!HAS_PROC) return undefined
  let env: Buffer
  try {
    env = readFileSync(`/proc/${pid}/environ`)
  } catch {
    return undefined
  }
  const needle = Buffer.from(`${name}=`)
  for (let at = env.indexOf(needle); at >= 0; at = env.indexOf(needle, at + 1)) {
    if (at > 0 && env[at - 1] !== 0) continue
    const end = env.indexOf(0, at)
    return env.subarray(at + needle.length, end < 0 ? env.length : end).toString('utf8')
  }
  return undefined
}

/** Does the process's environment contain exactly `name=value`? (false when unreadable) */
export function environHas(pid: number, name: string, value: string): boolean {
  if (!HAS_PROC) return false
  try {
    const env = readFileSync(`/proc/${pid}/environ`)
    const needle = Buffer.from(`${name}=${value}\0`)
    const index = env.indexOf(needle)
    return index === 0 || (index > 0 && env[index - 1] === 0)
  } catch {
    return false
  }
}
