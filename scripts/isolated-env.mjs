// The environment of an isolated makima world for the bench (bench/support.js) and the smoke runs
// (scripts/smoke.mjs): a HOME with only a git identity, its own MAKIMA_HOME, and nothing inherited
// from the caller's makima, Claude Code, Anthropic, git, npm or test-runner settings. (The test
// suite's test/support/env.ts keeps its own, in TypeScript, with more per-test options.)
import {mkdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

const INHERITED_NOT = /^(CLAUDE|MAKIMA_|ANTHROPIC_|GIT_|VITEST|npm_)/
const DROPPED = new Set(['NODE_OPTIONS', 'NODE_DEBUG', 'DEBUG'])

/**
 * Make `home` (with a .gitconfig naming `gitName` <`gitEmail`>, default branch main) and return
 * the environment: the Anthropic API at `apiUrl` with `apiKey`, `pathDirs` first on PATH, `extra`
 * applied last.
 */
export function isolatedEnvironment({home, makimaHome, apiUrl, apiKey, gitName, gitEmail, pathDirs = [], extra = {}}) {
  mkdirSync(home, {recursive: true})
  writeFileSync(path.join(home, '.gitconfig'), `[user]\n\tname = ${gitName}\n\temail = ${gitEmail}\n[init]\n\tdefaultBranch = main\n`)
  const env = {}
  for (const [k, v] of Object.entries(process.env)) if (!INHERITED_NOT.test(k) && !DROPPED.has(k)) env[k] = v
  return Object.assign(env, {
    HOME: home,
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
    MAKIMA_HOME: makimaHome,
    ANTHROPIC_BASE_URL: apiUrl,
    ANTHROPIC_API_KEY: apiKey,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    IS_SANDBOX: '1',
    DISABLE_AUTOUPDATER: '1',
    CI: 'true',
    NO_COLOR: '1',
    GIT_CONFIG_NOSYSTEM: '1',
    PATH: [...pathDirs, process.env.PATH ?? ''].join(path.delimiter),
    ...extra,
  })
}
