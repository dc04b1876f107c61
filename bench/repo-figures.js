// Figures on a large repository (issues 7 and 22): a repository of 20,000 small files (2,000 with
// --quick) in nested directories, one commit, made once per bench run with `git fast-import`.
//
//   spawn-detach-20k   `makima task spawn --detach --repo <repo>` (returns once the worktree is
//                      made and the runner started) vs `git worktree add -b <branch> <path>` of the
//                      same repo; target <= 1.0x
//   continue-from-20k  `makima task spawn --detach --continue-from <task>` of a task whose worktree
//                      has 10 changed files (uncommitted) vs `git worktree add` + `git apply` of the
//                      same patch; target <= 1.0x. Beside it, as information: vs `cp -a` of the
//                      source worktree (how the seed continued a task).
//   spawn-detach-100k  the first figure on a repository of 100,000 files (10,000 with --quick), the
//                      size of a large monorepo's checkout: how the cost grows (info)
//
// Claude Code is a stub here (it prints a recorded stream-json file and exits): these figures
// measure the worktree set-up, and each detached runner is waited for (untimed) before the next run.
import {rmSync, writeFileSync, appendFileSync, readFileSync} from 'node:fs'
import {spawnSync} from 'node:child_process'
import path from 'node:path'

import {FIXTURES, benchWorld, git, makima, pairRatios, ratioRow, timed, waitEnded, writeScript} from './support.js'

const STUB = `#!/bin/sh
# STUB claude (bench/repo-figures.js): these figures time makima's worktree set-up, not Claude
# Code, so the "claude" a task runs only prints a recorded stream-json file
# (test/fixtures/claude-stream-json/print-twofiles.jsonl) and exits.
exec cat ${JSON.stringify(path.join(FIXTURES, 'print-twofiles.jsonl'))}
`

/** A repository with `files` small files in nested directories and one commit on main. */
function makeBigRepo(dir, files, env) {
  git(['init', '-q', '-b', 'main', dir], path.dirname(dir), env)
  const chunks = ['commit refs/heads/main\ncommitter bench <bench@makima.invalid> 1700000000 +0000\ndata 15\ninitial commit\n']
  for (let i = 0; i < files; i++) {
    const body = `file ${i}\n${'some content of a source file, one line of it\n'.repeat(3)}`
    chunks.push(`M 100644 inline d${String(i % 20).padStart(2, '0')}/s${String(Math.floor(i / 20) % 20).padStart(2, '0')}/f${i}.txt\ndata ${Buffer.byteLength(body)}\n${body}\n`)
  }
  const result = spawnSync('git', ['fast-import', '--quiet'], {cwd: dir, env, input: chunks.join('')})
  if (result.status !== 0) throw new Error(`git fast-import failed: ${result.stderr}`)
  git(['reset', '-q', '--hard', 'main'], dir, env)
}

/**
 * The `files`-file repository (default 20,000, 2,000 with --quick), made on first use and shared
 * by the figures that use that size.
 */
export async function bigRepo(ctx, files = ctx.quick ? 2_000 : 20_000) {
  const key = `bigRepo${files}`
  if (!ctx.shared[key]) {
    const world = benchWorld(ctx.repoScratch, `bigrepo-${files}`)
    const repo = path.join(world.dir, 'repo')
    const start = Date.now()
    makeBigRepo(repo, files, world.env)
    ctx.shared[key] = {repo, files, seconds: (Date.now() - start) / 1000}
  }
  return ctx.shared[key]
}

/** A makima world whose claude is the stub; tasks run detached. */
function stubWorld(ctx, name) {
  const world = benchWorld(ctx.repoScratch, name)
  world.env.MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND = writeScript(path.join(world.dir, 'claude-stub'), STUB)
  return world
}

function removeWorktree(repo, worktree, env) {
  git(['worktree', 'remove', '--force', '--force', worktree], repo, env)
}

/** A detached spawn, timed; then (untimed) its runner is waited for. Returns {ms, task}. */
async function detachedSpawn(world, args) {
  const {ms, stdout} = await makima(['task', 'spawn', '--detach', '--json', ...args], {env: world.env, capture: true})
  const {taskId} = JSON.parse(stdout)
  const [task] = await waitEnded(world.db, [taskId])
  return {ms, task}
}

/** Runs `measureMakima` and `measureYard` alternately after a warm-up of each; medians. */
export async function alternate(runs, measureMakima, measureYard) {
  await measureMakima(-1)
  await measureYard(-1)
  const m = []
  const y = []
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) {
      m.push(await measureMakima(i))
      y.push(await measureYard(i))
    } else {
      y.push(await measureYard(i))
      m.push(await measureMakima(i))
    }
  }
  return {m, y}
}

async function spawnDetach(ctx, {files, id, runs, target}) {
  const {repo, seconds} = await bigRepo(ctx, files)
  const world = stubWorld(ctx, id)
  const {m, y} = await alternate(
    runs,
    async (i) => {
      const {ms, task} = await detachedSpawn(world, ['--repo', repo, `bench detach ${i + 1}`])
      if (task.state !== 'completed') throw new Error(`bench: detached task ${task.shortId} ${task.state}: ${task.error}`)
      removeWorktree(repo, task.worktreePath, world.env)
      return ms
    },
    async (i) => {
      const wt = path.join(world.dir, `git-wt-${i + 1}`)
      const {ms} = await timed('git', ['worktree', 'add', '-b', `bench-detach-${i + 1}`, wt], {cwd: repo, env: world.env})
      removeWorktree(repo, wt, world.env)
      return ms
    },
  )
  return [
    ratioRow({
      id,
      figure: `${target === null ? '  (info) ' : ''}task spawn --detach, ${files.toLocaleString('en')}-file repo`,
      makimaMs: m,
      yardMs: y,
      target,
      yardstickCommand: 'git worktree add',
      runs,
      detail: `medians of ${runs}: makima ${m.map((v) => v.toFixed(0)).join(', ')} ms; git ${y.map((v) => v.toFixed(0)).join(', ')} ms; pairs ${pairRatios(m, y)} (repo of ${files} files made in ${seconds.toFixed(1)} s)`,
    }),
  ]
}

async function continueFrom(ctx) {
  const {repo, files} = await bigRepo(ctx)
  const world = stubWorld(ctx, 'continue-from')
  const runs = ctx.quick ? 3 : 7
  const {task: source} = await detachedSpawn(world, ['--repo', repo, 'bench continue source'])
  const changed = []
  for (let i = 0; i < 10; i++) {
    const rel = `d${String(i).padStart(2, '0')}/s00/f${i}.txt`
    appendFileSync(path.join(source.worktreePath, rel), `a change made by the source task (${i})\n`)
    changed.push(rel)
  }
  const patchFile = path.join(world.dir, 'source.patch')
  writeFileSync(patchFile, git(['diff', '--binary'], source.worktreePath, world.env))
  const check = (task) => {
    const text = readFileSync(path.join(task.worktreePath, changed[9]), 'utf8')
    if (!text.includes('a change made by the source task (9)')) throw new Error(`bench: task ${task.shortId} does not have the source's changes`)
  }
  const gitWorktree = async (i) => {
    const wt = path.join(world.dir, `git-wt-${i + 1}`)
    const add = await timed('git', ['worktree', 'add', '-b', `bench-continue-${i + 1}`, wt, 'HEAD'], {cwd: source.worktreePath, env: world.env})
    const apply = await timed('git', ['apply', '--binary', patchFile], {cwd: wt, env: world.env})
    removeWorktree(repo, wt, world.env)
    return add.ms + apply.ms
  }
  const {m, y} = await alternate(
    runs,
    async (i) => {
      const {ms, task} = await detachedSpawn(world, ['--continue-from', source.id, `bench continue ${i + 1}`])
      if (task.state !== 'completed') throw new Error(`bench: continued task ${task.shortId} ${task.state}: ${task.error}`)
      check(task)
      removeWorktree(repo, task.worktreePath, world.env)
      return ms
    },
    gitWorktree,
  )
  const cp = []
  for (let i = 0; i < runs; i++) {
    const dest = path.join(world.dir, `cp-${i + 1}`)
    cp.push((await timed('cp', ['-a', source.worktreePath, dest])).ms)
    rmSync(dest, {recursive: true, force: true})
  }
  return [
    ratioRow({
      id: 'continue-from-20k',
      figure: `task spawn --detach --continue-from (10 changed files), ${files.toLocaleString('en')}-file repo`,
      makimaMs: m,
      yardMs: y,
      target: 1.0,
      yardstickCommand: 'git worktree add + git apply',
      runs,
      detail: `medians of ${runs}: makima ${m.map((v) => v.toFixed(0)).join(', ')} ms; git ${y.map((v) => v.toFixed(0)).join(', ')} ms; pairs ${pairRatios(m, y)}`,
    }),
    ratioRow({
      id: 'continue-from-vs-cp',
      figure: `  (info) the same continue-from vs cp -a of the source worktree`,
      makimaMs: m,
      yardMs: cp,
      target: null,
      yardstickCommand: 'cp -a',
      runs,
      detail: `cp -a of the ${files}-file source worktree: ${cp.map((v) => v.toFixed(0)).join(', ')} ms`,
    }),
  ]
}

/**
 * Each: {id, title, measure(ctx) -> rows}; ctx = {scratch, fastScratch, repoScratch, quick,
 * shared}. These run in ctx.repoScratch: on the disk (os.tmpdir()), where makima's worktrees are,
 * unless MAKIMA_BENCH_TMPDIR names another place (e.g. /dev/shm). Until issue 22 they ran in a
 * tmpfs because the disk was slow at times; the reason is now known (bench/README.md): this
 * machine's disk is ext4 without a journal, whose inode allocator skips the inodes freed in the
 * last minute or so, one by one, so every file created after a worktree was removed (as the bench
 * and `task cleanup` do) costs ~0.6 ms of kernel CPU. That is the disk makima runs on here, and
 * where the checkout's cost is the figure (in a tmpfs, git's checkout is ~0.6 s and makima's
 * Node start-up alone ~0.25 s).
 */
export const REPO_FIGURES = [
  {
    id: 'spawn-detach-20k',
    title: 'task spawn --detach on a 20k-file repo vs git worktree add',
    measure: (ctx) => spawnDetach(ctx, {files: ctx.quick ? 2_000 : 20_000, id: 'spawn-detach-20k', runs: ctx.quick ? 3 : 7, target: 1.0}),
  },
  {id: 'continue-from-20k', title: 'continue-from on a 20k-file repo vs git worktree add + git apply', measure: continueFrom},
]

/**
 * The 100k-file figure runs after claude-worktree-figures.js (run.js): its worktrees free 100,000
 * inodes a run, which the disk's allocator then skips one by one for minutes (see above); in a full
 * run where it came first, the next figure's checkouts took twice as long in makima's fresh
 * MAKIMA_HOME as in the repository's own .claude/worktrees (attached task 1.85x Claude Code's
 * --worktree; 0.90x on its own minutes later).
 */
export const BIG_REPO_FIGURES = [
  {
    id: 'spawn-detach-100k',
    title: 'task spawn --detach on a 100k-file repo vs git worktree add (info)',
    measure: (ctx) => spawnDetach(ctx, {files: ctx.quick ? 10_000 : 100_000, id: 'spawn-detach-100k', runs: 3, target: null}),
  },
]
