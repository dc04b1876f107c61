import {existsSync, mkdirSync, realpathSync} from 'node:fs'
import path from 'node:path'

import {configFilePath, expandHome, getPath, readConfigFile} from '../config/load.js'
import type {Config} from '../config/types.js'
import {MakimaError} from '../errors.js'
import {gitDirs} from '../git/repo-dirs.js'
import type {TaskRecord} from '../store/task-record.js'
import {resolveClaudeCommand} from './invocation.js'

/** Turns claude's command line into the one actually spawned (e.g. under bwrap). */
export type CommandWrapper = (command: string, args: string[]) => {command: string; args: string[]}

export const BWRAP_INSTALL_HINT = 'install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap)'

export interface BwrapLayout {
  /** the task's worktree (or temp directory): writable, and the working directory */
  worktree: string
  /** HOME of the claude process: readable; its Claude Code config (~/.claude, ~/.claude.json) writable */
  home?: string
  /** more writable paths (the worktree's own git dir: index, HEAD) */
  writable?: string[]
  /** paths that must stay readable even when they lie under /tmp (git common dir, the claude binary) */
  readable?: string[]
  /** existing files the task must not read (makima's secrets and database): shown as empty */
  masked?: string[]
}

/**
 * bwrap's arguments for one claude run (process.bubblewrap.enabled): the whole filesystem
 * read-only, a fresh /dev, /proc and a private /tmp, then the paths of the layout: read-only ones
 * bound again (so they stay visible when they lie under /tmp) and the writable ones Claude Code
 * needs: the worktree, its git dir, ~/.claude and ~/.claude.json (sessions and settings, so
 * --continue and --resume work across runs). Parents are bound before children (bwrap applies
 * them in order, a later bind covers what is below it), so a writable worktree inside a read-only
 * MAKIMA_HOME stays writable and a read-only repository inside a writable directory stays
 * read-only. The masked files come last, each covered by an empty read-only file. The task gets its
 * own process namespace, so /proc inside shows only its processes: not the environment of the
 * daemon or of other tasks (their tool keys); makima, outside, still sees and signals every one.
 * The network is shared (Claude Code needs the API).
 */
export function bwrapArgs(layout: BwrapLayout, command: string, args: string[]): string[] {
  const out = ['--unshare-pid', '--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp']
  /** path -> bwrap option; writable wins over read-only for the same path */
  const binds = new Map<string, string>()
  for (const p of [...(layout.home ? [layout.home] : []), ...(layout.readable ?? [])]) binds.set(path.resolve(p), '--ro-bind-try')
  for (const p of layout.writable ?? []) binds.set(path.resolve(p), '--bind-try')
  binds.set(path.resolve(layout.worktree), '--bind')
  if (layout.home) {
    binds.set(path.join(path.resolve(layout.home), '.claude'), '--bind-try')
    binds.set(path.join(path.resolve(layout.home), '.claude.json'), '--bind-try')
  }
  const ordered = [...binds.keys()].sort((a, b) => depth(a) - depth(b) || a.localeCompare(b))
  for (const p of ordered) out.push(binds.get(p)!, p, p)
  for (const p of layout.masked ?? []) out.push('--ro-bind', '/dev/null', path.resolve(p))
  out.push('--chdir', layout.worktree, '--', command, ...args)
  return out
}

function depth(p: string): number {
  return p.split(path.sep).filter(Boolean).length
}

/** The bwrap executable on PATH, or a MakimaError saying how to install it. */
export function resolveBwrap(envPath: string | undefined): string {
  try {
    return resolveClaudeCommand('bwrap', envPath)
  } catch {
    throw new MakimaError(
      'INVALID_STATE',
      `process.bubblewrap.enabled is set but bwrap was not found on PATH: ${BWRAP_INSTALL_HINT}, or turn the sandbox off (makima config set process.bubblewrap.enabled false)`,
    )
  }
}

/**
 * The wrapper for a task's claude runs: undefined when the sandbox is off; throws (the task
 * fails with it) when it is on and bwrap is missing.
 *
 * Read-only beyond the defaults: HOME, the source repository (and its git dir) and MAKIMA_HOME,
 * bound again so they stay visible (and read-only) even when they lie under /tmp. Writable: the
 * worktree, its own git dir (index, HEAD: `git status`/`git add` work; commits do not, objects are
 * in the read-only repository), ~/.claude and ~/.claude.json. Orchestrator and supervisor tasks run
 * makima from their Bash tool (.makima/orchestrate.sh), so MAKIMA_HOME is writable for them.
 * Masked: the server API key file, a config.json that still holds a secret, and (but for
 * orchestrators and supervisors, which use it) the database with the outbox and other tasks' output.
 */
export async function sandboxWrapper(task: TaskRecord, config: Config, env: Record<string, string | undefined>): Promise<CommandWrapper | undefined> {
  if (!config.process.bubblewrap.enabled) return undefined
  const bwrap = resolveBwrap(env.PATH)
  const worktree = task.worktreePath
  if (!worktree) throw new MakimaError('INTERNAL', `task ${task.shortId} has no worktree to sandbox`)
  const home = env.HOME
  const writable: string[] = []
  const readable: string[] = []
  // Bound writable below: it must exist (claude would create it; a bind needs its source).
  if (home) mkdirSync(path.join(home, '.claude'), {recursive: true, mode: 0o700})
  const usesMakima = task.isOrchestrator || task.isSupervisor
  if (usesMakima) writable.push(config.home)
  else readable.push(config.home)
  const masked = maskedFiles(config, usesMakima)
  if (task.repoPath) {
    readable.push(task.repoPath)
    const dirs = await gitDirs(worktree).catch(() => undefined)
    if (dirs) readable.push(dirs.commonDir)
    if (dirs && dirs.gitDir !== dirs.commonDir) writable.push(dirs.gitDir)
  }
  return (command, args) => {
    const real = safeRealpath(command)
    // The claude launcher execs a binary from a sibling package: keep the whole node_modules visible.
    const modules = real.lastIndexOf(`${path.sep}node_modules${path.sep}`)
    const install = modules === -1 ? path.dirname(real) : real.slice(0, modules + '/node_modules'.length)
    const layout: BwrapLayout = {worktree, home, writable, readable: [...readable, install], masked}
    // The real path: a symlink (node_modules/.bin/claude) can point where the sandbox shows nothing.
    return {command: bwrap, args: bwrapArgs(layout, real, args)}
  }
}

/** The existing files a sandboxed task must not read (a bind needs its target to exist). */
function maskedFiles(config: Config, usesMakima: boolean): string[] {
  const files: string[] = []
  if (config.server.apiKeyFile) files.push(path.resolve(expandHome(config.server.apiKeyFile)))
  const configFile = configFilePath(config.home)
  if (getPath(readConfigFile(config.home), 'server.apiKey') !== undefined) files.push(configFile)
  if (!usesMakima) files.push(...['', '-wal', '-shm'].map((suffix) => `${config.localDb.path}${suffix}`))
  return files.filter((file) => existsSync(file)).map(safeRealpath)
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p)
  } catch {
    return p
  }
}
