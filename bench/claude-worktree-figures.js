// makima against Claude Code's own `--worktree` (issue 22): one task that writes one file, on the
// 20,000-file repository of repo-figures.js (2,000 with --quick), with the newest Claude Code
// release (newest-claude.js) talking to the scripted Anthropic API of the tests on loopback.
//
//   claude-worktree-20k       attached `makima task spawn --json --repo <repo> <plan>` (the whole
//                             task: worktree, Claude Code, the end) vs `claude -p --worktree <name>
//                             <plan>` in the repository (Claude Code makes the worktree under
//                             .claude/worktrees and runs there); target <= 1.1x
//   claude-worktree-20k-pool  the same makima run with worktree.warmPool 1 (the pool is full before
//                             each run: a refill is waited for, untimed); target <= 0.6x
//
// Runs alternate in triples (makima, claude, makima with the pool; the two makima runs swap places
// every other triple) after an untimed warm-up of each; every run is checked (the task completed
// and the file is in its worktree); worktrees and branches are removed between runs, and the
// refill a pooled spawn starts in the background (at nice 19, beside its own task) is waited for
// after it (untimed), so that it does not run into the next runs.
import {existsSync, readdirSync} from 'node:fs'
import path from 'node:path'
import {pathToFileURL} from 'node:url'

import {newestClaude} from './newest-claude.js'
import {bigRepo} from './repo-figures.js'
import {ROOT, benchWorld, git, gitTraceSeconds, loadScriptedApi, makima, pairRatios, ratioRow, sleep, timed, traceFile} from './support.js'

const PLAN = 'Write the file bench-output.txt.'
const OUTPUT = 'bench-output.txt'
const WRITE = `printf 'written by the task\\n' > ${OUTPUT}`

/** The warm pool of `repo` in a makima world: waits until it has a ready worktree and no refill runs. */
async function poolReady(world, repo) {
  const {readyWorktrees, repoPoolDir} = await import(pathToFileURL(path.join(ROOT, 'dist', 'lib', 'git', 'worktree-pool.js')).href)
  const root = path.join(world.makimaHome, 'worktrees', '.pool')
  const deadline = Date.now() + 300_000
  for (;;) {
    const filling = existsSync(repoPoolDir(root, repo)) && readdirSync(repoPoolDir(root, repo)).some((f) => f.endsWith('.filling'))
    if (!filling && readyWorktrees(root, repo).length >= 1) return
    if (!filling) await makima(['task', 'pool-fill', '--repo', repo], {env: world.env})
    else await sleep(200)
    if (Date.now() > deadline) throw new Error('bench: the warm pool was not refilled within 300 s')
  }
}

function removeWorktreeAndBranch(repo, worktree, branch, env) {
  git(['worktree', 'remove', '--force', '--force', worktree], repo, env)
  git(['branch', '-D', branch], repo, env)
}

async function claudeWorktree(ctx) {
  const {repo, files} = await bigRepo(ctx)
  const claude = newestClaude()
  const {startScriptedApi} = await loadScriptedApi(ctx.scratch)
  // Every conversation: one Bash call that writes the file, then a text answer.
  const api = await startScriptedApi((c) => (!Array.isArray(c.body?.tools) || c.body.tools.length === 0 ? {text: 'ok'} : c.turn < 1 ? {bash: WRITE} : {text: 'done'}))
  try {
    const extra = {MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: claude.path}
    const plain = benchWorld(ctx.repoScratch, 'claude-wt', {apiUrl: api.url, extra})
    const pooled = benchWorld(ctx.repoScratch, 'claude-wt-pool', {apiUrl: api.url, extra: {...extra, MAKIMA_DAEMON_WORKTREE_WARMPOOL: '1'}})
    // MAKIMA_BENCH_TRACE: seconds of each run's checkout (git's own), to say where the time goes
    const checkouts = {m0: [], m1: [], claude: []}
    const traced = (env, kind) => {
      const file = traceFile(`claude-worktree-${kind}`)
      return {env: file ? {...env, GIT_TRACE2_EVENT: file} : env, done: () => file && checkouts[kind].push(gitTraceSeconds(file).checkout)}
    }
    const makimaRun = (world) => async () => {
      if (world === pooled) await poolReady(world, repo)
      const trace = traced(world.env, world === pooled ? 'm1' : 'm0')
      const {ms, stdout} = await makima(['task', 'spawn', '--json', '--repo', repo, PLAN], {env: trace.env, capture: true})
      trace.done()
      const task = JSON.parse(stdout)
      if (task.state !== 'completed' || !existsSync(path.join(task.worktreePath, OUTPUT))) {
        throw new Error(`bench: task ${task.shortId} ${task.state} (${task.error}); ${OUTPUT} ${existsSync(path.join(task.worktreePath ?? '', OUTPUT)) ? 'written' : 'missing'}`)
      }
      removeWorktreeAndBranch(repo, task.worktreePath, task.branch, world.env)
      // the refill this spawn started is waited for here, so it does not run into the next runs
      if (world === pooled) await poolReady(world, repo)
      return ms
    }
    let n = 0
    const claudeRun = async () => {
      const name = `bench-${process.pid}-${++n}`
      const trace = traced(plain.env, 'claude')
      const {ms} = await timed(claude.path, ['-p', '--worktree', name, '--dangerously-skip-permissions', PLAN], {env: trace.env, cwd: repo})
      trace.done()
      const wt = path.join(repo, '.claude', 'worktrees', name)
      if (!existsSync(path.join(wt, OUTPUT))) throw new Error(`bench: claude -p --worktree did not write ${OUTPUT} in ${wt}`)
      removeWorktreeAndBranch(repo, wt, `worktree-${name}`, plain.env)
      return ms
    }
    const [m0, m1] = [makimaRun(plain), makimaRun(pooled)]
    // warm-up (untimed): each first run also makes Claude Code's files in its HOME
    await m0()
    await claudeRun()
    await m1()
    const runs = ctx.quick ? 2 : 7
    const a = []
    const b = []
    const y = []
    for (let i = 0; i < runs; i++) {
      if (i % 2 === 0) {
        a.push(await m0())
        y.push(await claudeRun())
        b.push(await m1())
      } else {
        b.push(await m1())
        y.push(await claudeRun())
        a.push(await m0())
      }
    }
    const ms = (list) => list.map((v) => v.toFixed(0)).join(', ')
    const secs = (list) => list.map((v) => v.toFixed(2)).join(', ')
    const checkoutText = checkouts.claude.length
      ? `; checkouts (git's seconds, warm-up first): makima ${secs(checkouts.m0)}; claude ${secs(checkouts.claude)}; pooled makima ${secs(checkouts.m1)}`
      : ''
    const where = `Claude Code ${claude.version} (${claude.how}); ${files} files; runs in ${ctx.repoScratch}${checkoutText}`
    const yard = `claude -p --worktree (${claude.version})`
    return [
      ratioRow({
        id: 'claude-worktree-20k',
        figure: `attached task spawn (whole task, one file written), ${files.toLocaleString('en')}-file repo`,
        makimaMs: a,
        yardMs: y,
        target: 1.1,
        yardstickCommand: yard,
        runs,
        detail: `medians of ${runs}: makima ${ms(a)} ms; claude ${ms(y)} ms; pairs ${pairRatios(a, y)}; ${where}`,
      }),
      ratioRow({
        id: 'claude-worktree-20k-pool',
        figure: `the same with worktree.warmPool 1`,
        makimaMs: b,
        yardMs: y,
        target: 0.6,
        yardstickCommand: yard,
        runs,
        detail: `medians of ${runs}: makima with a warm pool of 1 ${ms(b)} ms; claude ${ms(y)} ms; pairs ${pairRatios(b, y)}`,
      }),
    ]
  } finally {
    await api.close()
  }
}

/** Each: {id, title, measure(ctx) -> rows}; ctx = {scratch, fastScratch, repoScratch, quick, shared}. */
export const CLAUDE_WORKTREE_FIGURES = [{id: 'claude-worktree-20k', title: "attached task spawn vs Claude Code's own --worktree (20k-file repo; also with a warm pool of 1)", measure: claudeWorktree}]
