import {Args, Flags} from '@oclif/core'

import {limitsFromFlags} from '../lib/tasks/limits/limits.js'
import type {TaskSpec} from '../lib/tasks/spec.js'

/** The hard limits of a task (task spawn/create, and task send for new ones); tasks/limits.ts. */
export const limitFlags = {
  timeout: Flags.string({
    helpGroup: 'LIMITS',
    description: 'stop the task when its runs of Claude Code have taken this much wall time together: 90s, 30m, 2h (default limits.timeoutSecs; 0 = none)',
  }),
  'max-turns': Flags.string({
    helpGroup: 'LIMITS',
    description: 'stop the task at this many assistant turns, counted by makima across its runs (default limits.maxTurns)',
  }),
  'max-cost': Flags.string({
    helpGroup: 'LIMITS',
    description: "stop the task when its cost reaches this many US dollars (Claude Code's figure at API prices; also passed as --max-budget-usd for what is left; default limits.maxCostUsd)",
  }),
}

/** task spawn/start/send: resume a task a usage limit ended once it resets (default limits.resumeAfterLimit). */
export const resumeAfterLimitFlag = {
  'resume-after-limit': Flags.boolean({
    helpGroup: 'LIMITS',
    allowNo: true,
    description: 'when a usage limit of Claude Code (a 5-hour or weekly limit) ends the task, resume it by itself with a short "continue" once the limit resets (default limits.resumeAfterLimit)',
  }),
}

export type LimitFlagValues = {timeout?: string; 'max-turns'?: string; 'max-cost'?: string}

/** task spawn/start: wait in the machine's queue when every slot is taken (default process.queueWhenFull). */
export const queueFlag = {
  queue: Flags.boolean({
    allowNo: true,
    description:
      'when every slot is taken (process.maxConcurrentTasks), queue the task instead of exiting 4: it starts as soon as a slot frees, in FIFO order across every makima process of the machine. With --detach the id is printed at once; attached it shows "queued (N ahead)" and waits (Ctrl-C removes it from the queue). Default: process.queueWhenFull (false)',
  }),
}

/** Flags and args shared by several task commands. */
export const taskIdArg = Args.string({name: 'task', required: true, description: 'task id (full UUID or a unique prefix of at least 4 hex characters)'})

export const specFlags = {
  name: Flags.string({description: 'a short name for the task (default: the first line of the plan)'}),
  repo: Flags.string({
    description:
      'the repository to work in: a local path, a URL (https://, ssh://, git@, file://; cloned once into $MAKIMA_HOME/repos) or new://<name> (a fresh repository). Without it the task gets an empty temp directory',
  }),
  'base-branch': Flags.string({description: 'branch the worktree starts from (default: the repository default branch)'}),
  'target-branch': Flags.string({description: 'branch the completion action pushes to or merges into (default: the base branch)'}),
  'target-repo': Flags.string({description: 'repository the completion action targets (default: the source repository, its origin when it has one)'}),
  'completion-action': Flags.string({
    options: ['none', 'branch', 'merge', 'pr'],
    default: 'none',
    description: 'what to do when the task completes: push its branch, merge it into the target branch, or open a pull request',
  }),
  'continue-from': Flags.string({description: "start from another task's branch and uncommitted changes"}),
  files: Flags.string({description: "comma-separated paths to copy from the --parent task's worktree"}),
  parent: Flags.string({description: 'parent task id (the new task is its subtask)'}),
  'no-setup': Flags.boolean({description: "do not run the repository's setup command (.makima/setup or worktree.setupCommand) in the new worktree, nor its teardown at cleanup"}),
  autonomous: Flags.boolean({
    description:
      'run in a loop until Claude Code declares the task done: each run ends with a completion gate; when it is not ready Claude Code is started again with --continue (limits: autonomous.maxRuns, autonomous.maxRunsWithoutProgress, autonomous.maxSameBlocker)',
  }),
  ...limitFlags,
  ...resumeAfterLimitFlag,
  orchestrator: Flags.boolean({
    description: 'run the task as an orchestrator: it splits the work into subtasks it creates, starts and waits for with ./.makima/orchestrate.sh, and integrates their work',
  }),
}

type SpecFlagValues = LimitFlagValues & {
  name?: string
  repo?: string
  'base-branch'?: string
  'target-branch'?: string
  'target-repo'?: string
  'completion-action'?: string
  'continue-from'?: string
  files?: string
  parent?: string
  'no-setup'?: boolean
  orchestrator?: boolean
  autonomous?: boolean
  'resume-after-limit'?: boolean
}

/** The TaskSpec the spec flags describe. */
export function specFromFlags(plan: string, flags: SpecFlagValues): TaskSpec {
  return {
    plan,
    name: flags.name,
    repo: flags.repo,
    baseBranch: flags['base-branch'],
    targetBranch: flags['target-branch'],
    targetRepo: flags['target-repo'],
    completionAction: (flags['completion-action'] ?? 'none') as TaskSpec['completionAction'],
    continueFromTaskId: flags['continue-from'],
    copyFiles: flags.files
      ? flags.files
          .split(',')
          .map((f) => f.trim())
          .filter(Boolean)
      : undefined,
    parentTaskId: flags.parent,
    skipSetup: flags['no-setup'] ?? false,
    isOrchestrator: flags.orchestrator ?? false,
    autonomous: flags.autonomous ?? false,
    limits: limitsFromFlags(flags),
    resumeAfterLimit: flags['resume-after-limit'],
  }
}
