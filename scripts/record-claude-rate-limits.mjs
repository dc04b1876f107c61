#!/usr/bin/env node
// What a Claude Code version prints when the API rate-limits it (src/lib/claude/rate-limit.ts):
// runs `claude -p --output-format stream-json` against the scripted API of the tests on loopback
// (no network) in four situations and prints (or saves) each stream:
//
//   retry    the first API call answers 429 with `retry-after: 1` (plain request limit), then text
//   usage    every API call answers 429 with `anthropic-ratelimit-unified-status: rejected` and a
//            reset 2 minutes ahead (a subscription's 5-hour limit)
//   warning  a success carrying `anthropic-ratelimit-unified-status: allowed_warning`
//   allowed  a success carrying `anthropic-ratelimit-unified-status: allowed`
//
//   node scripts/record-claude-rate-limits.mjs [path/to/claude] [--login apikey|oauth] [--save <dir> <suffix>]
//
// --login oauth logs in with CLAUDE_CODE_OAUTH_TOKEN (a subscription-style login) instead of
// ANTHROPIC_API_KEY. --save writes <dir>/<case>-<suffix>.jsonl with the temp dir rewritten to /home/dev
// (the task's directory is /home/dev/app, as in the other fixtures). --cases retry,usage picks some.
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {loadScriptedApi} from './scripted-api.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const take = (flag, n) => {
  const at = args.indexOf(flag)
  return at === -1 ? null : args.splice(at, n + 1).slice(1)
}
const login = take('--login', 1)?.[0] ?? 'apikey'
const save = take('--save', 2)
const cases = take('--cases', 1)?.[0].split(',') ?? ['retry', 'usage', 'warning', 'allowed']
const claude = args[0] ? path.resolve(args[0]) : path.join(ROOT, 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe')

const work = mkdtempSync(path.join(tmpdir(), 'makima-ratelimit-probe-'))
try {
  const {startScriptedApi, rateLimitHeaders} = await loadScriptedApi(work)
  const now = () => Math.floor(Date.now() / 1000)
  const scripts = {
    retry: () => {
      let n = 0
      return () =>
        n++ === 0
          ? {headers: {'retry-after': '1', ...rateLimitHeaders({status: 'allowed', resetsAt: now() + 3600})}, then: {status: 429, error: 'Number of requests has exceeded your rate limit'}}
          : {text: 'done after the retry'}
    },
    usage: () => () => ({headers: rateLimitHeaders({status: 'rejected', resetsAt: now() + 120, claim: 'five_hour'}), then: {status: 429, error: 'rate limited'}}),
    warning: () => () => ({headers: rateLimitHeaders({status: 'allowed_warning', resetsAt: now() + 3600, claim: 'seven_day', utilization: 0.91}), then: {text: 'done with a warning'}}),
    allowed: () => () => ({headers: rateLimitHeaders({status: 'allowed', resetsAt: now() + 3600}), then: {text: 'done'}}),
  }
  for (const name of cases) {
    const api = await startScriptedApi(scripts[name]())
    const root = mkdtempSync(path.join(work, `${name}-`))
    const home = path.join(root, 'home')
    const cwd = path.join(root, 'app')
    mkdirSync(home)
    mkdirSync(cwd)
    const env = {
      PATH: process.env.PATH,
      HOME: home,
      ANTHROPIC_BASE_URL: api.url,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      IS_SANDBOX: '1',
      DISABLE_AUTOUPDATER: '1',
      CI: 'true',
      ...(login === 'oauth' ? {CLAUDE_CODE_OAUTH_TOKEN: 'sk-ant-oat01-probe'} : {ANTHROPIC_API_KEY: 'probe'}),
    }
    const started = Date.now()
    const out = await new Promise((resolve, reject) => {
      const p = spawn(claude, ['-p', '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions', `say hello (${name})`], {cwd, env, stdio: ['ignore', 'pipe', 'pipe']})
      let text = ''
      const killer = setTimeout(() => p.kill('SIGKILL'), 90_000)
      p.on('error', reject)
      p.stdout.on('data', (d) => (text += d))
      p.stderr.on('data', (d) => process.stderr.write(`[${name} stderr] ${d}`))
      p.on('close', () => {
        clearTimeout(killer)
        resolve(text)
      })
    })
    await api.close()
    const lines = out.split('\n').filter(Boolean)
    console.log(`== ${name} (${login}): ${lines.length} lines in ${Date.now() - started} ms, ${api.messageRequests().length} API calls`)
    for (const l of lines) if (!l.includes('"subtype":"init"')) console.log(l.slice(0, 700))
    if (save) {
      mkdirSync(save[0], {recursive: true})
      writeFileSync(
        path.join(save[0], `${name === 'retry' ? 'rate-limit-retry' : name === 'usage' ? 'usage-limit' : `rate-limit-${name}`}-${save[1]}.jsonl`),
        `${lines.map((l) => l.split(root).join('/home/dev').split(root.replaceAll('/', '-')).join('-home-dev')).join('\n')}\n`,
      )
    }
  }
} finally {
  rmSync(work, {recursive: true, force: true})
}
