#!/usr/bin/env node
// Records the stream-json samples of test/fixtures/claude-stream-json/ with a given Claude Code,
// offline: the scripted API of the tests on loopback, no login. The temp dir is rewritten to
// /home/dev and the port to PORT afterwards.
//
//   node scripts/record-claude-stream.mjs <path/to/claude> <out dir>
//
// To record another version: `npm install @anthropic-ai/claude-code@<v>` in a temp dir (never
// with --omit=optional) and pass its node_modules/.bin/claude. What each file is: the README there.
import {execFileSync, spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

import {loadScriptedApi} from './scripted-api.mjs'

const [claudeArg, outArg] = process.argv.slice(2)
if (!claudeArg || !outArg) {
  console.error('usage: node scripts/record-claude-stream.mjs <path/to/claude> <out dir>')
  process.exit(2)
}
const claude = path.resolve(claudeArg)
const outDir = path.resolve(outArg)
const STREAM = ['--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions']
const EXPIRED = 'OAuth token has expired. Please obtain a new token or run /login'

const work = realpathSync(mkdtempSync(path.join(tmpdir(), 'makima-record-')))
try {
  const {startScriptedApi, byPrompt, steps} = await loadScriptedApi(work)
  const api = await startScriptedApi(
    byPrompt({
      'write src/a.ts and src/b.ts': steps(
        {bash: 'mkdir -p src && printf "export const a = 1;\\n" > src/a.ts'},
        {bash: 'printf "export const b = 2;\\n" > src/b.ts && git status --short'},
        {text: 'Wrote src/a.ts and src/b.ts.'},
      ),
      'start the chat': {text: 'ready for follow-ups'},
      'second message': {text: 'echo: second message'},
      'resumed message': {text: 'echo: resumed message'},
      'continued message': {text: 'echo: continued message'},
      'fail with 500': {status: 500},
      'fail with 401': {status: 401, error: EXPIRED},
    }),
  )
  const home = path.join(work, 'home')
  const cwd = path.join(work, 'app')
  mkdirSync(home)
  mkdirSync(cwd)
  const gitEnv = {...process.env, HOME: home, GIT_CONFIG_NOSYSTEM: '1'}
  execFileSync('git', ['init', '-q', '-b', 'main'], {cwd, env: gitEnv})
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    ANTHROPIC_BASE_URL: api.url,
    ANTHROPIC_API_KEY: 'record',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    IS_SANDBOX: '1',
    DISABLE_AUTOUPDATER: '1',
    CI: 'true',
    GIT_CONFIG_NOSYSTEM: '1',
  }
  const port = new URL(api.url).port

  /**
   * One claude process. `messages`: user messages written on stdin (stream-json), each after the
   * previous `result`, stdin closed after the last one's; none: the plan is an argument. `stopAfter`
   * kills the process once that many lines match it (for the retries that last minutes).
   */
  const run = (args, {messages = [], extraEnv = {}, stopAfter} = {}) =>
    new Promise((resolve, reject) => {
      const input = messages.length > 0
      const p = spawn(claude, ['-p', ...STREAM, ...(input ? ['--input-format', 'stream-json'] : []), ...args], {cwd, env: {...env, ...extraEnv}, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'inherit']})
      let out = ''
      let results = 0
      const send = (text) => p.stdin.write(`${JSON.stringify({type: 'user', message: {role: 'user', content: text}})}\n`)
      p.on('error', reject)
      p.stdout.on('data', (d) => {
        out += d
        const lines = out.split('\n').filter(Boolean)
        if (stopAfter && lines.filter((l) => stopAfter.re.test(l)).length >= stopAfter.count) p.kill('SIGTERM')
        if (!input) return
        const seen = lines.filter((l) => l.startsWith('{') && JSON.parse(l).type === 'result').length
        if (seen > results) {
          results = seen
          if (results < messages.length) setTimeout(() => send(messages[results]), 1000)
          else if (!p.stdin.writableEnded) p.stdin.end()
        }
      })
      if (input) send(messages[0])
      p.on('close', () => resolve(out))
    })
  const save = (name, text) => {
    const cleaned = text
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replaceAll(work, '/home/dev').replaceAll(work.replaceAll('/', '-'), '-home-dev').replaceAll(`127.0.0.1:${port}`, '127.0.0.1:PORT'))
      .join('\n')
    writeFileSync(path.join(outDir, name), `${cleaned}\n`)
    console.log(`${name}: ${cleaned.split('\n').length} lines`)
  }

  mkdirSync(outDir, {recursive: true})
  save('print-twofiles.jsonl', await run(['write src/a.ts and src/b.ts']))
  const chat = await run([], {messages: ['start the chat', 'second message']})
  save('input-chat.jsonl', chat)
  const session = JSON.parse(chat.split('\n')[0]).session_id
  save('resume.jsonl', await run(['--resume', session], {messages: ['resumed message']}))
  save('continue.jsonl', await run(['--continue'], {messages: ['continued message']}))
  save('api-500.jsonl', await run(['fail with 500'], {extraEnv: {CLAUDE_CODE_MAX_RETRIES: '0'}}))
  save('auth-401.jsonl', await run(['fail with 401'], {extraEnv: {CLAUDE_CODE_MAX_RETRIES: '0'}}))
  save('auth-401-retries.jsonl', await run(['fail with 401'], {stopAfter: {re: /"subtype":"api_retry"/, count: 2}}))
  await api.close()
} finally {
  rmSync(work, {recursive: true, force: true})
}
