import {mkdirSync, realpathSync} from 'node:fs'
import path from 'node:path'

import type {Config} from '../config/types.js'
import {MakimaError} from '../errors.js'
import {gitText} from '../git/git-runner.js'
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
}

/**
 * bwrap's arguments for one claude run (process.bubblewrap.enabled): the whole filesystem
 * read-only, a fresh /dev, /proc and a private /tmp, then the paths Claude Code needs writable:
 * the worktree, its git dir, ~/.claude and ~/.claude.json (sessions and settings, so --continue
 * and --resume work across runs). Paths under /tmp are bound again after the private /tmp, read-
 * only ones before writable ones (bwrap applies them in order). The network is shared (Claude
 * Code needs the API); the process tree stays visible so makima can signal it.
 */
export function bwrapArgs(layout: BwrapLayout, command: string, args: string[]): string[] {
  const out = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp']
  const readable = unique([...(layout.home ? [layout.home] : []), ...(layout.readable ?? [])])
  for (const p of sortByDepth(readable)) out.push('--ro-bind-try', p, p)
  const writable = unique([layout.worktree, ...(layout.writable ?? [])])
  const home = layout.home
  for (const p of sortByDepth(writable)) out.push('--bind', p, p)
  if (home) {
    out.push('--bind-try', path.join(home, '.claude'), path.join(home, '.claude'))
    out.push('--bind-try', path.join(home, '.claude.json'), path.join(home, '.claude.json'))
  }
  out.push('--chdir', layout.worktree, '--', command, ...args)
  return out
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
 */
export async function sandboxWrapper(task: TaskRecord, config: Config, env: Record<string, string | undefined>): Promise<CommandWrapper | undefined> {
  if (!config.process.bubblewrap.enabled) return undefined
  const bwrap = resolveBwrap(env.PATH)
  const worktree = task.worktreePath
  if (!worktree) throw new MakimaError('INTERNAL', `task ${task.shortId} has no worktree to sandbox`)
  const home = env.HOME
  const writable: string[] = []
  const readable: string[] = []
  if (home) {
    // Bound writable below: they must exist (claude would create them; a bind needs its source).
    mkdirSync(path.join(home, '.claude'), {recursive: true, mode: 0o700})
  }
  if (task.repoPath) {
    const gitDir = await gitText(['rev-parse', '--absolute-git-dir'], {cwd: worktree}).catch(() => null)
    const common = await gitText(['rev-parse', '--path-format=absolute', '--git-common-dir'], {cwd: worktree}).catch(() => null)
    if (common) readable.push(common)
    if (gitDir && gitDir !== common) writable.push(gitDir)
  }
  return (command, args) => {
    const real = safeRealpath(command)
    const layout: BwrapLayout = {worktree, home, writable, readable: [...readable, path.dirname(real), path.dirname(command)]}
    return {command: bwrap, args: bwrapArgs(layout, command, args)}
  }
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p)
  } catch {
    return p
  }
}

function unique(paths: string[]): string[] {
  return [...new Set(paths.map((p) => path.resolve(p)))]
}

/** Parents before children, so a child's bind is not hidden by its parent's. */
function sortByDepth(paths: string[]): string[] {
  return [...paths].sort((a, b) => a.split(path.sep).length - b.split(path.sep).length || a.localeCompare(b))
}
