import {existsSync, statSync} from 'node:fs'
import path from 'node:path'

import type {Config} from '../config/types.js'
import {MakimaError} from '../errors.js'
import {gitDirs} from '../git/repo-dirs.js'
import {resolveTargetRepo} from '../git/repo-dirs.js'
import {hasGitComponent, isInside, realpathOfExisting, userDirectory} from '../paths.js'

/**
 * Where the paths a server sends may point (docs/protocol-paths.md): the daemon serves the
 * repositories it works in, never the rest of the machine, never git's own files and never
 * makima's (MAKIMA_HOME: config.json, the database, the saved Claude Code token, logs, locks).
 * Each check resolves `~`, `..` and symlinks first and throws INVALID_INPUT (protocol
 * INVALID_FIELD) naming the field, the value and what is allowed.
 */
export interface ServerPathsContext {
  config: Config
  /** the repository and worktree directories of the tasks in the local store */
  knownRepositories: () => string[]
}

const refuse = (field: string, message: string) => new MakimaError('INVALID_INPUT', `${field}: ${message}`)

/** Directories resolved (symlinks): one that is a dangling link names nothing and is left out. */
function resolvedAll(dirs: string[]): string[] {
  const resolved: string[] = []
  for (const dir of dirs) {
    try {
      resolved.push(realpathOfExisting(dir))
    } catch {
      // a dangling symbolic link
    }
  }
  return resolved
}

export class ServerPaths {
  constructor(private readonly ctx: ServerPathsContext) {}

  private get home(): string {
    return realpathOfExisting(this.ctx.config.home)
  }

  /** worktree.baseDir and worktree.reposDir: makima makes task worktrees and clones in them. */
  private managed(): {baseDir: string; reposDir: string} {
    const {baseDir, reposDir} = this.ctx.config.worktree
    return {baseDir: realpathOfExisting(baseDir), reposDir: realpathOfExisting(reposDir)}
  }

  /** Task repositories and worktrees, resolved. */
  private known(): string[] {
    return resolvedAll(this.ctx.knownRepositories())
  }

  /** daemon.readRoots, resolved. */
  private readRoots(): string[] {
    return resolvedAll((this.ctx.config.daemon?.readRoots ?? []).map((root) => userDirectory(root)))
  }

  /**
   * Is `p` a file of makima's own: inside MAKIMA_HOME but not in a task's repository or
   * worktree, nor in a worktree or clone under worktree.baseDir / reposDir (a directory that
   * holds MAKIMA_HOME itself grants nothing), or the database anywhere.
   */
  private isMakimaOwned(p: string): boolean {
    const home = this.home
    const db = realpathOfExisting(this.ctx.config.localDb.path)
    if (p === db || p.startsWith(`${db}-`)) return true
    if (!isInside(p, home)) return false
    const grants = (dir: string) => !isInside(home, dir) // a directory holding MAKIMA_HOME grants nothing
    if (this.known().some((dir) => grants(dir) && isInside(p, dir))) return false
    return !Object.values(this.managed()).some((dir) => grants(dir) && p !== dir && isInside(p, dir))
  }

  private resolve(field: string, value: string): {given: string; resolved: string} {
    const given = userDirectory(value)
    let resolved: string
    try {
      resolved = realpathOfExisting(given)
    } catch (error) {
      throw refuse(field, (error as Error).message)
    }
    if (hasGitComponent(resolved)) throw refuse(field, `${given} is inside a .git directory: git's own files are never served or written`)
    return {given, resolved}
  }

  private ownedMessage(given: string): string {
    return `${given} is inside MAKIMA_HOME (${this.home}), which holds makima's own files (config.json, makima.db, claude-oauth-token.json, logs, locks); only task worktrees and cached clones there are repositories`
  }

  /**
   * readRepoFile.repoPath: the repository or worktree of a task in the local store, a worktree
   * under worktree.baseDir, a clone under worktree.reposDir, or a directory of daemon.readRoots
   * (or a directory inside one of them). Returns the resolved directory.
   */
  readRoot(repoPath: string, field = 'readRepoFile.repoPath'): string {
    const {given, resolved} = this.resolve(field, repoPath)
    const {baseDir, reposDir} = this.managed()
    const roots = this.readRoots()
    const allowed =
      this.known().some((dir) => isInside(resolved, dir)) || [baseDir, reposDir].some((dir) => resolved !== dir && isInside(resolved, dir)) || roots.some((dir) => isInside(resolved, dir))
    if (!allowed) {
      const configured = roots.length > 0 ? roots.join(', ') : 'none set'
      throw refuse(
        field,
        `repoPath ${given} is not a repository makima knows: allowed are the repositories and worktrees of tasks on this machine, task worktrees under ${baseDir}, cached clones under ${reposDir}, and the directories of daemon.readRoots (${configured})`,
      )
    }
    if (this.isMakimaOwned(resolved)) throw refuse(field, this.ownedMessage(given))
    if (existsSync(path.join(resolved, 'HEAD')) && existsSync(path.join(resolved, 'objects')) && existsSync(path.join(resolved, 'refs'))) {
      throw refuse(field, `repoPath ${given} is a git directory (a bare repository), not a working tree: git's own files are never served`)
    }
    return resolved
  }

  /** readRepoFile.filePath, resolved inside its root: not a file of makima's own. */
  readableFile(resolved: string, filePath: string, field = 'readRepoFile.filePath'): void {
    if (hasGitComponent(resolved)) throw refuse(field, `"${filePath}" points into a .git directory: git's own files are never served`)
    if (this.isMakimaOwned(resolved)) throw refuse(field, `"${filePath}" is a file of makima's own (${resolved}), never served`)
  }

  /**
   * cloneWorktree.targetDir, checkTargetExists.targetDir: anywhere but MAKIMA_HOME,
   * worktree.baseDir, worktree.reposDir (makima's files, its worktrees and clones) and `.git`
   * directories. Returns the path as given (`~` expanded).
   */
  targetDir(targetDir: string, field: string): string {
    const {given, resolved} = this.resolve(field, targetDir)
    const {baseDir, reposDir} = this.managed()
    const places: [string, string][] = [
      ['MAKIMA_HOME', this.home],
      ['worktree.baseDir', baseDir],
      ['worktree.reposDir', reposDir],
    ]
    for (const [name, dir] of places) {
      if (isInside(resolved, dir)) throw refuse(field, `${given} is inside ${name} (${dir}), where makima keeps its own files, worktrees and clones: name a directory outside it`)
    }
    return given
  }

  /**
   * spawnTask.targetRepoPath, retryCompletionAction.targetRepoPath: an existing git repository
   * (bare, or a working tree: a directory inside one names its top level), not one inside
   * MAKIMA_HOME other than a cached clone, nor a task worktree. Returns the repository's top level.
   */
  async targetRepo(targetRepoPath: string, field: string): Promise<string> {
    const {given} = this.resolve(field, targetRepoPath)
    let top: string
    try {
      top = realpathOfExisting(await resolveTargetRepo(given))
    } catch (error) {
      if (error instanceof MakimaError && error.code === 'INVALID_INPUT') throw refuse(field, error.message)
      throw error
    }
    const {baseDir, reposDir} = this.managed()
    if (hasGitComponent(top)) throw refuse(field, `${given} is inside a .git directory: name the repository's working tree`)
    if (top !== baseDir && isInside(top, baseDir)) throw refuse(field, `${given} is a task worktree (under worktree.baseDir ${baseDir}), not a target repository`)
    if (isInside(top, this.home) && !(top !== reposDir && isInside(top, reposDir))) throw refuse(field, this.ownedMessage(given))
    return top
  }

  /**
   * inheritGitConfig.sourceDir: an existing directory in a git repository (git config is read
   * there), not inside MAKIMA_HOME other than a task worktree or cached clone. Returns it.
   */
  async sourceDir(sourceDir: string, field = 'inheritGitConfig.sourceDir'): Promise<string> {
    const {given, resolved} = this.resolve(field, sourceDir)
    if (!existsSync(resolved) || !statSync(resolved).isDirectory()) throw refuse(field, `${given} does not exist or is not a directory`)
    if (this.isMakimaOwned(resolved)) throw refuse(field, this.ownedMessage(given))
    if (!(await gitDirs(resolved))) throw refuse(field, `${given} is not in a git repository: name the repository whose user.name and user.email to use`)
    return given
  }
}
