import {ACTIVE_STATES, type TaskRecord} from '../../store/task-record.js'
import type {Store} from '../../store/store.js'
import type {Config} from '../../config/types.js'
import {copyIncludedFiles, linkSharedDirs} from './include.js'
import {reserveTaskPort} from './port.js'
import {hookCommandFor, hookEnvironment, runHookCommand} from './setup-command.js'

export interface EnvironmentContext {
  config: Config
  store: Store
  /** the environment the task's processes inherit (cleaned before use) */
  env: Record<string, string | undefined>
  progress: (message: string) => void
}

/**
 * Make a new worktree ready for work (issue 13, "Environment setup"): the `.worktreeinclude`
 * files of the source checkout copied in, worktree.shareDirs linked, a free TCP port reserved
 * and recorded on the task (MAKIMA_TASK_PORT), then the setup command (.makima/setup or
 * worktree.setupCommand; not with --no-setup) run there with its output as progress lines.
 * A failing or timed-out setup throws HookCommandError; the worktree stays for inspection.
 */
export async function prepareWorktreeEnvironment(task: TaskRecord, worktreePath: string, ctx: EnvironmentContext): Promise<TaskRecord> {
  const taskPort = task.taskPort ?? (await reserveTaskPort(portsInUse(ctx.store, task.id)))
  const withPort = ctx.store.tasks.update(task.id, {taskPort})
  ctx.progress(`Reserved TCP port ${taskPort} for the task (MAKIMA_TASK_PORT)`)
  if (!task.repoPath) return withPort
  await copyIncludedFiles(task.repoPath, worktreePath, ctx.progress)
  if (ctx.config.worktree.shareDirs.length > 0) await linkSharedDirs(task.repoPath, worktreePath, ctx.config.worktree.shareDirs, ctx.progress)
  const hook = hookCommandFor('setup', worktreePath, ctx.config)
  if (!hook) return withPort
  if (task.skipSetup) {
    ctx.progress(`Setup command \`${hook.display}\` skipped (--no-setup)`)
    return withPort
  }
  ctx.progress(`Running setup command \`${hook.display}\` (timeout ${ctx.config.worktree.setupTimeoutSecs}s)`)
  const env = hookEnvironment(withPort, worktreePath, ctx.env)
  await runHookCommand(hook, {cwd: worktreePath, env, timeoutSecs: ctx.config.worktree.setupTimeoutSecs, progress: ctx.progress})
  ctx.progress(`Setup command \`${hook.display}\` finished`)
  return withPort
}

/**
 * Run the teardown command (.makima/teardown or worktree.teardownCommand) in a task's worktree
 * before it is removed; not for a task spawned with --no-setup. Returns the failure, if any, as
 * a message: a failing teardown does not keep the worktree.
 */
export async function runTeardown(task: TaskRecord, worktreePath: string, ctx: EnvironmentContext): Promise<string | undefined> {
  if (!task.repoPath || task.skipSetup) return undefined
  let hook
  try {
    hook = hookCommandFor('teardown', worktreePath, ctx.config)
  } catch (error) {
    return (error as Error).message
  }
  if (!hook) return undefined
  ctx.progress(`Running teardown command \`${hook.display}\``)
  try {
    await runHookCommand(hook, {cwd: worktreePath, env: hookEnvironment(task, worktreePath, ctx.env), timeoutSecs: ctx.config.worktree.setupTimeoutSecs, progress: ctx.progress})
    return undefined
  } catch (error) {
    const message = (error as Error).message
    ctx.progress(message)
    return message
  }
}

/** The ports recorded on the other active tasks. */
function portsInUse(store: Store, exceptId: string): Set<number> {
  const ports = new Set<number>()
  for (const t of store.tasks.list({states: ACTIVE_STATES})) if (t.id !== exceptId && t.taskPort) ports.add(t.taskPort)
  return ports
}
