/** The typed configuration every layer receives (built by loadConfig; never read from process.env elsewhere). */
export interface Config {
  home: string
  server: {url: string; apiKey?: string; apiKeyFile?: string; heartbeatIntervalSecs: number; reconnectIntervalSecs: number}
  worktree: {baseDir: string; reposDir: string; setupCommand?: string; teardownCommand?: string; setupTimeoutSecs: number; shareDirs: string[]; warmPool: number}
  localDb: {path: string}
  process: {
    maxConcurrentTasks: number
    maxTasksPerContract: number
    /** task spawn/start queue when the cap is full (--queue); the CLI's default, never the daemon's */
    queueWhenFull: boolean
    claudeCommand: string
    claudeArgs: string[]
    claudePreArgs: string[]
    enablePermissions: boolean
    heartbeatCommitIntervalSecs: number
    bubblewrap: {enabled: boolean}
    interruptGraceSecs: number
  }
  checkpointPatches: {enabled: boolean; maxPatchSizeBytes: number}
  api: {url: string}
  history: {retentionDays: number; maxWorktreeBytes: number}
  autonomous: {maxRuns: number; maxRunsWithoutProgress: number; maxSameBlocker: number}
  /** defaults of each task's hard limits (0 = none; tasks/limits.ts) */
  limits: {timeoutSecs: number; maxTurns: number; maxCostUsd: number; resumeAfterLimit: boolean}
  outbox: {maxMessages: number; maxBytes: number}
  daemon: {readRoots: string[]; drainGraceSecs: number; metricsPort?: number; metricsHost: string; healthDbBudgetSecs: number}
}
