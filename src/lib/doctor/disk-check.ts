import {statfsSync} from 'node:fs'

import type {CheckResult, DoctorContext} from './check-result.js'

/** Below this share of free space on MAKIMA_HOME's disk, doctor warns (worktrees and the database grow there). */
export const LOW_DISK_FREE_RATIO = 0.1

/** The disk MAKIMA_HOME is on: a warning when less than 10% of it is free. */
export function checkDisk(ctx: DoctorContext): CheckResult | undefined {
  let stats
  try {
    stats = statfsSync(ctx.config.home)
  } catch {
    return undefined // checkHome reports a home that cannot be used
  }
  return diskResult(ctx.config.home, stats.bavail * stats.bsize, stats.blocks * stats.bsize)
}

/** The check's result for `free` of `total` bytes available on the disk of `home`. */
export function diskResult(home: string, free: number, total: number): CheckResult {
  const percent = total > 0 ? (free / total) * 100 : 100
  const detail = `${gib(free)} of ${gib(total)} free (${percent.toFixed(1)}%) on the disk of MAKIMA_HOME ${home}`
  if (total > 0 && free / total < LOW_DISK_FREE_RATIO) {
    return {check: 'disk', status: 'warn', detail: `only ${detail}`, fix: 'makima task prune --merged (or --older-than 7d) removes the worktrees of ended tasks'}
  }
  return {check: 'disk', status: 'ok', detail}
}

function gib(bytes: number): string {
  return `${(bytes / 1024 ** 3).toFixed(1)} GiB`
}
