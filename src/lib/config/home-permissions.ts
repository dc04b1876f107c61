// MAKIMA_HOME holds every task's plan, output and tool results (makima.db), tokens and worktrees:
// makima creates it 0700, and says so when an existing one is open to other users.
import {statSync} from 'node:fs'

export interface OpenHome {
  /** what is wrong, naming the directory and its mode */
  detail: string
  /** the command that fixes it */
  fix: string
}

/** MAKIMA_HOME that other users (its group, or everyone) can read or enter; undefined when it is private or missing. */
export function openHome(home: string): OpenHome | undefined {
  let mode: number
  try {
    mode = statSync(home).mode & 0o777
  } catch {
    return undefined
  }
  if ((mode & 0o077) === 0) return undefined
  return {
    detail: `MAKIMA_HOME ${home} is open to other users (mode ${mode.toString(8).padStart(4, '0')}), and task plans and output are in it`,
    fix: `chmod 700 ${home}`,
  }
}
