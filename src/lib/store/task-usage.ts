/**
 * What a task's runs of Claude Code used, all runs together: the task object's `usage`, the
 * protocol's taskComplete `usage`. `costUsd` is Claude Code's figure at API prices; on a
 * subscription login (`costEstimated`) it is an estimate, not a bill.
 */
export interface TaskUsage {
  inputTokens: number
  outputTokens: number
  cacheReadTokens: number
  cacheWriteTokens: number
  costUsd: number
  /** assistant turns, counted by makima from the stream */
  turns: number
  /** wall time of the runs (a running one up to now) */
  durationMs: number
  /** runs of Claude Code (the first, each resume, each autonomous --continue) */
  runs: number
  models: string[]
  costEstimated: boolean
}
