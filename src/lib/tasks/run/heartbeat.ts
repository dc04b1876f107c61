import {existsSync} from 'node:fs'

import type {Config} from '../../config/types.js'
import {resolveTree} from '../../git/refs.js'
import {writeWorktreeTree} from '../../git/snapshot.js'
import type {Store} from '../../store/store.js'
import type {TaskRecord} from '../../store/task-record.js'
import {takeSnapshot, type CheckpointCreated} from '../checkpoints/checkpoints.js'
import type {TaskEventSink} from '../events.js'

export interface HeartbeatContext {
  config: Config
  store: Store
  emit: TaskEventSink
  progress: (message: string) => void
  /** each heartbeat snapshot as the protocol's checkpointCreated payload (the daemon sends it) */
  onCheckpoint?: (payload: CheckpointCreated) => void
}

export interface Heartbeat {
  /** stop the timer and wait for a snapshot in progress */
  stop(): Promise<void>
}

const STOPPED: Heartbeat = {stop: async () => undefined}

/**
 * Heartbeat checkpoints while a task runs (every process.heartbeatCommitIntervalSecs, fractions
 * allowed; 0 = off): when the worktree differs from HEAD and from the previous snapshot, a
 * snapshot on the side ref refs/makima/checkpoints/<taskId>/<n> with its patch in the store (see
 * tasks/checkpoints/checkpoints.ts takeSnapshot). The task branch, HEAD and the worktree's index never move. One
 * snapshot at a time; the next interval starts when a snapshot has finished; a failure is
 * reported as a progress line and never ends the run.
 */
export function startHeartbeat(task: TaskRecord, ctx: HeartbeatContext): Heartbeat {
  const intervalMs = ctx.config.process.heartbeatCommitIntervalSecs * 1000
  if (!(intervalMs > 0) || !task.repoPath || !task.worktreePath) return STOPPED
  const worktree = task.worktreePath
  let stopped = false
  let timer: NodeJS.Timeout | undefined
  let current: Promise<void> | undefined
  /** tree of the latest snapshot (undefined: not looked up yet; null: there is none) */
  let lastTree: string | null | undefined

  const previousTree = async (): Promise<string | null> => {
    const latest = ctx.store.checkpoints.latest(task.id, 'snapshot')
    if (!latest?.commitSha) return null
    return (await resolveTree(worktree, latest.commitSha)) ?? null
  }

  const tick = async (): Promise<void> => {
    try {
      const now = ctx.store.tasks.get(task.id)
      if (!now || now.state === 'paused' || !existsSync(worktree)) return
      const tree = await writeWorktreeTree(worktree)
      if (lastTree === undefined) lastTree = await previousTree()
      if (tree === lastTree) return
      const taken = await takeSnapshot(ctx.store, ctx.config, now, {
        tree,
        message: `makima: heartbeat snapshot of task ${task.shortId}`,
        label: 'heartbeat snapshot',
      })
      if (!taken) return // the worktree equals HEAD
      lastTree = tree
      const n = taken.record.number
      const files = taken.payload.filesChanged?.length ?? 0
      ctx.progress(`Heartbeat snapshot ${n}: ${files} file${files === 1 ? '' : 's'} (${taken.record.ref})`)
      if (taken.patchNote) ctx.progress(`Heartbeat snapshot ${n}: ${taken.patchNote}`)
      ctx.onCheckpoint?.(taken.payload)
    } catch (error) {
      try {
        ctx.progress(`Heartbeat snapshot failed (the task goes on): ${error instanceof Error ? error.message : String(error)}`)
      } catch {
        // reporting is best effort too
      }
    }
  }

  const schedule = (): void => {
    if (stopped) return
    timer = setTimeout(() => {
      timer = undefined
      current = tick().finally(() => {
        current = undefined
        schedule()
      })
    }, intervalMs)
    timer.unref()
  }
  schedule()

  return {
    async stop() {
      stopped = true
      if (timer) clearTimeout(timer)
      await current
    },
  }
}
