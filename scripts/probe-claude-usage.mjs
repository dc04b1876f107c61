#!/usr/bin/env node
// What a Claude Code version reports about cost (src/lib/claude/usage.ts): runs one task (a Bash
// tool call, then text) and a `--resume` follow-up with the given `claude` against the scripted
// API of the tests on loopback (no network, no login), and says whether total_cost_usd is a total
// of the process or of the session, and whether result lines still start with "type".
//
//   node scripts/probe-claude-usage.mjs [path/to/claude] [--save <dir>]
//
// To check another version: `npm install @anthropic-ai/claude-code@<v>` in a temp dir (never with
// --omit=optional) and pass its node_modules/.bin/claude. --save writes each run's stream-json
// there (run1.jsonl, run2.jsonl), as test/fixtures/claude-usage/ was made.
import {spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {loadScriptedApi} from './scripted-api.mjs'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const args = process.argv.slice(2)
const saveAt = args.indexOf('--save')
const saveDir = saveAt === -1 ? null : args.splice(saveAt, 2)[1]
const claude = args[0] ? path.resolve(args[0]) : path.join(ROOT, 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe')

const work = mkdtempSync(path.join(tmpdir(), 'makima-usage-probe-'))
try {
  const {startScriptedApi, byPrompt} = await loadScriptedApi(work)
  const api = await startScriptedApi(byPrompt({'first task': (ctx) => (ctx.toolResults.length ? {text: 'did it'} : {bash: 'echo hi > a.txt'}), 'follow up': {text: 'followed'}}))
  const home = path.join(work, 'home')
  const cwd = path.join(work, 'work')
  mkdirSync(home)
  mkdirSync(cwd)
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    ANTHROPIC_BASE_URL: api.url,
    ANTHROPIC_API_KEY: 'probe',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    IS_SANDBOX: '1',
    DISABLE_AUTOUPDATER: '1',
    CI: 'true',
  }
  const run = (extra, message) =>
    new Promise((resolve, reject) => {
      const p = spawn(claude, ['-p', '--output-format', 'stream-json', '--input-format', 'stream-json', '--verbose', '--dangerously-skip-permissions', ...extra], {cwd, env})
      let out = ''
      p.on('error', reject)
      p.stdout.on('data', (d) => {
        out += d
        if (/"type":"result"/.test(out) && !p.stdin.writableEnded) p.stdin.end()
      })
      p.stdin.write(`${JSON.stringify({type: 'user', message: {role: 'user', content: message}})}\n`)
      p.on('close', () => resolve(out))
    })
  const first = await run([], 'first task')
  const session = JSON.parse(first.split('\n')[0]).session_id
  const second = await run(['--resume', session], 'follow up')
  await api.close()
  if (saveDir) {
    mkdirSync(saveDir, {recursive: true})
    writeFileSync(path.join(saveDir, 'run1.jsonl'), first)
    writeFileSync(path.join(saveDir, 'run2.jsonl'), second)
  }
  const parse = (text) =>
    text
      .split('\n')
      .filter(Boolean)
      .map((l) => ({line: l, json: JSON.parse(l)}))
  const [r1, r2] = [first, second].map((t) => parse(t).find((e) => e.json.type === 'result'))
  const version = parse(first).find((e) => e.json.subtype === 'init')?.json.claude_code_version
  const [c1, c2] = [r1.json.total_cost_usd, r2.json.total_cost_usd]
  // run 1 made two API calls, run 2 one: a process total halves, a session total grows
  const kind = c2 > c1 ? 'a total of the SESSION (carried over by --resume)' : 'a total of the PROCESS'
  console.log(`Claude Code ${version}: total_cost_usd ${c1} then ${c2} after --resume: ${kind}`)
  console.log(`result lines start with ${JSON.stringify(Object.keys(r1.json)[0])}; num_turns ${r1.json.num_turns}, ${r2.json.num_turns}`)
} finally {
  rmSync(work, {recursive: true, force: true})
}
