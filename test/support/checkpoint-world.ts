// A per-test world for checkpoint/diff/restore tests: a scripted API, a testEnv pointed at it
// (extra env such as the heartbeat interval), a repository with a bare origin, the built CLI,
// and byte-level helpers to compare directory trees.
import {execFileSync} from 'node:child_process'
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join, relative} from 'node:path'

import {runCli} from './cli.js'
import {testEnv, type TestEnv} from './env.js'
import {makeRepo, type Repo} from './git-fixtures.js'
import {startScriptedApi, type Script, type ScriptedApi} from './scripted-api.js'

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface CheckpointWorld {
  api: ScriptedApi
  t: TestEnv
  repo: Repo
  makima(args: string[], timeoutMs?: number): Promise<CliResult>
  /** `makima ...args --json`: exit 0 expected; stdout parsed as exactly one JSON value */
  json(args: string[], timeoutMs?: number): Promise<any>
  /** git in any directory with the world's environment; stdout without trailing whitespace */
  git(cwd: string, ...args: string[]): string
}

export async function checkpointWorld(script: Script, opts: {extra?: Record<string, string | undefined>; files?: Record<string, string>} = {}): Promise<CheckpointWorld> {
  const api = await startScriptedApi(script)
  const t = testEnv({apiUrl: api.url, extra: opts.extra})
  const repo = makeRepo(t.root, {env: t.env, bare: true, files: opts.files})
  const makima = (args: string[], timeoutMs = 60_000) => runCli(args, {env: t.env, cwd: repo.dir, timeoutMs})
  return {
    api,
    t,
    repo,
    makima,
    async json(args, timeoutMs) {
      const r = await makima([...args, '--json'], timeoutMs)
      if (r.code !== 0) throw new Error(`makima ${args.join(' ')} --json exited ${r.code}\n${r.stdout}\n${r.stderr}`)
      return JSON.parse(r.stdout)
    },
    git: (cwd, ...args) => execFileSync('git', args, {cwd, env: t.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe']}).trimEnd(),
  }
}

/**
 * Every file under dir (except .git) as relative path -> bytes and mode, symlinks by target;
 * for comparing two trees byte for byte.
 */
export function treeBytes(dir: string, skip: string[] = ['.git']): Map<string, {bytes: Buffer; mode: number}> {
  const out = new Map<string, {bytes: Buffer; mode: number}>()
  const walk = (d: string) => {
    for (const entry of readdirSync(d, {withFileTypes: true})) {
      const p = join(d, entry.name)
      const rel = relative(dir, p)
      if (skip.includes(rel)) continue
      if (entry.isDirectory()) walk(p)
      else out.set(rel, {bytes: readFileSync(p), mode: statSync(p).mode & 0o111 ? 0o755 : 0o644})
    }
  }
  walk(dir)
  return out
}

/** Assertion helper: the differences between two treeBytes maps, as readable lines (empty when equal). */
export function treeDifferences(a: Map<string, {bytes: Buffer; mode: number}>, b: Map<string, {bytes: Buffer; mode: number}>): string[] {
  const problems: string[] = []
  for (const [path, fa] of a) {
    const fb = b.get(path)
    if (!fb) problems.push(`missing: ${path}`)
    else if (!fa.bytes.equals(fb.bytes)) problems.push(`bytes differ: ${path} (${fa.bytes.length} vs ${fb.bytes.length} bytes)`)
    else if (fa.mode !== fb.mode) problems.push(`mode differs: ${path}`)
  }
  for (const path of b.keys()) if (!a.has(path)) problems.push(`extra: ${path}`)
  return problems
}
