// An isolated environment for child processes (makima, claude, git): a fresh temp dir with its
// own HOME, MAKIMA_HOME and git identity, the real `claude` devDependency first on PATH, and the
// Anthropic API pointed at a scripted server on loopback.
import {randomUUID} from 'node:crypto'
import {mkdirSync, mkdtempSync, readlinkSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {delimiter, dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

import {killProcessesWithEnv} from './processes.js'

/** Root of the makima project (the directory holding package.json). */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')

/**
 * The Claude Code the tests run: package.json's pinned devDependency @anthropic-ai/claude-code,
 * the newest release makima is tested with (src/lib/claude/tested-versions.ts).
 */
export const PINNED_CLAUDE = join(projectRoot, 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe')

/**
 * The oldest Claude Code makima is tested with, the npm alias devDependency claude-code-2-1-197,
 * for the tests of what reads its output (its result lines start with "type" and its cost is a
 * total of the process, not of the session).
 */
export const CLAUDE_2_1_197 = join(projectRoot, 'node_modules', 'claude-code-2-1-197', 'bin', 'claude.exe')

/**
 * Both Claude Code versions the suite runs, newest first, for `describe.each` over the tests of
 * what reads Claude Code's output (stream parser, usage, auth failures, run end). Only those run
 * twice; everything else runs the pinned one.
 */
export const CLAUDE_VERSIONS: readonly {label: string; bin: string}[] = [
  {label: '2.1.332', bin: PINNED_CLAUDE},
  {label: '2.1.197', bin: CLAUDE_2_1_197},
]

/**
 * A directory holding only `claude` -> PINNED_CLAUDE, first on every test PATH. Both Claude Code
 * devDependencies name their bin `claude`, and which one npm links as node_modules/.bin/claude
 * depends on the order it installs them in; this one does not.
 */
export function pinnedClaudeDir(): string {
  const dir = join(projectRoot, 'node_modules', '.cache', 'makima-test-bin')
  const link = join(dir, 'claude')
  try {
    if (readlinkSync(link) === PINNED_CLAUDE) return dir
  } catch {
    // not made yet
  }
  mkdirSync(dir, {recursive: true})
  const tmp = `${link}.${process.pid}`
  rmSync(tmp, {force: true})
  symlinkSync(PINNED_CLAUDE, tmp)
  renameSync(tmp, link) // atomic: test workers may do this at once
  return dir
}

/** Every child started with a testEnv carries this variable; cleanup() kills by it. */
export const TEST_ENV_MARKER = 'MKTEST_ENV_ID'

export interface TestEnvOptions {
  /** Base URL of the scripted API; default: a closed loopback port, so nothing reaches the network. */
  apiUrl?: string
  /** Extra variables (undefined deletes one), applied last. */
  extra?: Record<string, string | undefined>
}

export interface TestEnv {
  env: NodeJS.ProcessEnv
  /** The temp dir holding everything below; removed by cleanup(). */
  root: string
  home: string
  makimaHome: string
  /** Value of TEST_ENV_MARKER in env. */
  id: string
  /** Kills every process still carrying this env's marker, then removes root. */
  cleanup(): void
}

const live = new Set<TestEnv>()

/** Cleans up every test env not cleaned yet (for afterAll). */
export function cleanupAllTestEnvs(): void {
  for (const t of [...live]) t.cleanup()
}

function inheritedEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'CLAUDECODE' || k.startsWith('CLAUDE_') || k.startsWith('MAKIMA_') || k.startsWith('ANTHROPIC_')) continue
    // A test run from inside a git hook or another repo must not leak that repository in.
    if (k.startsWith('GIT_')) continue
    if (k === 'VITEST' || k.startsWith('VITEST_') || k === 'NODE_OPTIONS') continue
    env[k] = v
  }
  return env
}

export function testEnv(opts: TestEnvOptions = {}): TestEnv {
  const root = realpathSync(mkdtempSync(join(tmpdir(), 'makima-test-')))
  const home = join(root, 'home')
  const makimaHome = join(root, 'makima-home')
  mkdirSync(home, {recursive: true})
  mkdirSync(makimaHome, {recursive: true, mode: 0o700}) // as makima creates it
  writeFileSync(join(home, '.gitconfig'), '[user]\n\tname = makima test\n\temail = test@makima.invalid\n[init]\n\tdefaultBranch = main\n')
  const id = randomUUID()
  const env: NodeJS.ProcessEnv = {
    ...inheritedEnv(),
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_STATE_HOME: join(home, '.local', 'state'),
    XDG_CACHE_HOME: join(home, '.cache'),
    MAKIMA_HOME: makimaHome,
    ANTHROPIC_BASE_URL: opts.apiUrl ?? 'http://127.0.0.1:9',
    ANTHROPIC_API_KEY: 'test-key',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    IS_SANDBOX: '1',
    DISABLE_AUTOUPDATER: '1',
    CI: 'true',
    NO_COLOR: '1',
    GIT_CONFIG_NOSYSTEM: '1',
    PATH: [pinnedClaudeDir(), join(projectRoot, 'node_modules', '.bin'), process.env.PATH ?? ''].join(delimiter),
    [TEST_ENV_MARKER]: id,
  }
  for (const [k, v] of Object.entries(opts.extra ?? {})) {
    if (v === undefined) delete env[k]
    else env[k] = v
  }
  const t: TestEnv = {
    env,
    root,
    home,
    makimaHome,
    id,
    cleanup() {
      live.delete(t)
      killProcessesWithEnv(TEST_ENV_MARKER, id)
      rmSync(root, {recursive: true, force: true, maxRetries: 3})
    },
  }
  live.add(t)
  return t
}
