// Figures on a task's output (issue 7):
//
//   tool-calls-150  attached `makima task spawn` of a scenario of 150 Bash tool calls (30 with
//                   --quick) each printing ~20 KB (under Claude Code's own cap on a tool's output),
//                   with the real Claude Code CLI (node_modules/@anthropic-ai/claude-code) talking to the scripted
//                   Anthropic API of the tests (test/support/scripted-api.ts), vs the same
//                   `claude -p --output-format stream-json` run alone with its output to /dev/null;
//                   target <= 1.15x wall, and every stream-json line claude printed in the store
//                   (checked on a first, untimed run whose claude output is also teed to a file).
//   ingestion       a stub `claude` that prints a recorded stream-json file repeated to 400,000 lines
//                   (40,000 with --quick): lines stored per second from `makima task spawn --detach`
//                   until `task wait` returns (the runner that stores a detached or daemon task's
//                   output); target >= 100,000 lines/s with every line stored. Beside it, as info:
//                   attached `task spawn --json` (which also renders the transcript on stderr), and
//                   `cat` of the same file to /dev/null.
import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {BIN, FIXTURES, NODE, ROOT, benchWorld, loadScriptedApi, makima, median, ratioRow, round, storedStdout, storedStdoutCount, timed, valueRow, withStore, writeScript} from './support.js'

// The pinned devDependency itself: node_modules/.bin/claude may be the newer alias devDependency's.
const CLAUDE = path.join(ROOT, 'node_modules', '@anthropic-ai', 'claude-code', 'bin', 'claude.exe')
const BASH_20KB = "head -c 20000 /dev/zero | tr '\\0' x; echo"

/** Runs a command to its end, returning the wall time; with makima, also the task it ran. */
async function makimaSpawn(world, plan) {
  const {ms, stdout} = await makima(['task', 'spawn', '--json', plan], {env: world.env, capture: true})
  return {ms, task: JSON.parse(stdout)}
}

async function toolCalls(ctx) {
  const calls = ctx.quick ? 30 : 150
  const runs = ctx.quick ? 2 : 3
  const {startScriptedApi} = await loadScriptedApi(ctx.scratch)
  // Every conversation: a Bash call per turn until `calls` were made, then a text answer.
  // Requests without tools (none are expected with nonessential traffic off) get a short text.
  const api = await startScriptedApi((c) => (!Array.isArray(c.body?.tools) || c.body.tools.length === 0 ? {text: 'ok'} : c.turn < calls ? {bash: BASH_20KB} : {text: 'done'}))
  try {
    const world = benchWorld(ctx.scratch, 'tool-calls', {apiUrl: api.url})
    const plan = `Run the scripted commands (${calls} tool calls).`
    // The checked run: claude's stdout also goes to a file, compared line by line with the store.
    const teeFile = path.join(world.dir, 'claude-stdout.jsonl')
    const tee = writeScript(
      path.join(world.dir, 'claude-tee'),
      `#!/bin/bash\n# The real claude with its stdout also copied to a file (bench/claude-figures.js, checked run only).\nset -o pipefail\n${JSON.stringify(CLAUDE)} "$@" | tee ${JSON.stringify(teeFile)}\n`,
    )
    const {task: checked} = await makimaSpawn({env: {...world.env, MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: tee}}, plan)
    const printed = readFileSync(teeFile, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0)
    const stored = await withStore(world.db, (store) => storedStdout(store, checked.id))
    const toolResults = printed.filter((l) => l.includes('"tool_result"')).length
    const lossless = stored.length === printed.length && stored.every((l, i) => l === printed[i])
    if (checked.state !== 'completed' || toolResults !== calls) {
      throw new Error(`bench: the ${calls}-tool-call task ${checked.shortId} ${checked.state} (${checked.error}) with ${toolResults} tool results`)
    }
    const bytes = printed.reduce((n, l) => n + l.length + 1, 0)
    const m = []
    const y = []
    const counts = []
    const makimaRun = async () => {
      const {ms, task} = await makimaSpawn(world, plan)
      counts.push(await withStore(world.db, (store) => storedStdoutCount(store, task.id)))
      return ms
    }
    const claudeRun = async (i) => {
      const cwd = path.join(world.dir, `alone-${i}`)
      mkdirSync(cwd, {recursive: true})
      const args = ['-p', '--output-format', 'stream-json', '--verbose', '--dangerously-skip-permissions', plan]
      return (await timed(CLAUDE, args, {env: world.env, cwd})).ms
    }
    // no separate warm-up: the checked run above ran the same claude on the same scenario
    for (let i = 0; i < runs; i++) {
      if (i % 2 === 0) {
        m.push(await makimaRun())
        y.push(await claudeRun(i))
      } else {
        y.push(await claudeRun(i))
        m.push(await makimaRun())
      }
    }
    return [
      ratioRow({
        id: 'tool-calls-150',
        figure: `attached task spawn, ${calls} tool calls printing ~20 KB each (real claude, scripted API)`,
        makimaMs: m,
        yardMs: y,
        target: 1.15,
        ok: lossless,
        yardstickCommand: 'claude -p --output-format stream-json > /dev/null',
        runs,
        detail: `medians of ${runs}: makima ${m.map((v) => v.toFixed(0)).join(', ')} ms; claude alone ${y.map((v) => v.toFixed(0)).join(', ')} ms. Checked run: claude printed ${printed.length} lines (${(bytes / 1e6).toFixed(1)} MB), ${stored.length} stored, ${lossless ? 'identical' : 'NOT identical'}; timed runs stored ${counts.join(', ')} lines`,
      }),
    ]
  } finally {
    await api.close()
  }
}

/** `lines` lines of a recorded stream-json file, repeated. */
function repeatedFixture(file, fixture, lines) {
  const source = readFileSync(path.join(FIXTURES, fixture), 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
  const out = []
  for (let i = 0; i < lines; i++) out.push(source[i % source.length])
  writeFileSync(file, `${out.join('\n')}\n`)
  return out.reduce((n, l) => n + l.length + 1, 0)
}

/**
 * One ingestion run: a fresh MAKIMA_HOME whose claude is a stub that cats `data`. detached: from
 * the spawn of `task spawn --detach` until `task wait` returns (the runner stores the lines, as
 * for every detached and daemon task); attached: `task spawn --json` to its end (the same, plus
 * the transcript rendered on stderr), with GNU time's CPU seconds when there is a /usr/bin/time.
 */
async function ingestRun(ctx, name, data, lines, fixture, mode) {
  const world = benchWorld(ctx.scratch, name)
  world.env.MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND = writeScript(
    path.join(world.dir, 'claude-stub'),
    `#!/bin/sh\n# STUB claude (bench/claude-figures.js, ingestion): the figure measures how fast makima stores a\n# task's output, not Claude Code, so this prints a recorded stream-json file (${fixture}) repeated\n# to ${lines} lines as fast as it can, and exits.\nexec cat ${JSON.stringify(data)}\n`,
  )
  try {
    let ms
    let taskId
    let cpu = null
    if (mode === 'detached') {
      const spawned = await makima(['task', 'spawn', '--detach', '--json', 'ingest'], {env: world.env, capture: true})
      taskId = JSON.parse(spawned.stdout).taskId
      const waited = await makima(['task', 'wait', taskId], {env: world.env})
      ms = spawned.ms + waited.ms
    } else {
      // On a loaded shared machine the wall time says more about the other processes than about makima.
      const cpuFile = path.join(world.dir, 'cpu')
      const wrap = existsSync('/usr/bin/time') ? ['/usr/bin/time', ['-f', '%U %S', '-o', cpuFile, NODE, BIN]] : [NODE, [BIN]]
      const run = await timed(wrap[0], [...wrap[1], 'task', 'spawn', '--json', 'ingest'], {env: world.env, capture: true})
      ms = run.ms
      taskId = JSON.parse(run.stdout).id
      if (existsSync(cpuFile))
        cpu = readFileSync(cpuFile, 'utf8')
          .trim()
          .split(/\s+/)
          .reduce((a, b) => a + Number(b), 0)
    }
    const stored = await withStore(world.db, (store) => storedStdoutCount(store, taskId))
    return {ms, stored, rate: stored / (ms / 1000), cpuRate: cpu ? stored / cpu : null}
  } finally {
    rmSync(world.dir, {recursive: true, force: true})
  }
}

async function ingestion(ctx) {
  const lines = ctx.quick ? 40_000 : 400_000
  const runs = ctx.quick ? 2 : 3
  const fixture = 'print-twofiles.jsonl'
  const data = path.join(ctx.scratch, 'ingest.jsonl')
  const bytes = repeatedFixture(data, fixture, lines)
  const detached = []
  const attached = []
  const cat = []
  try {
    for (let i = 0; i < runs; i++) {
      detached.push(await ingestRun(ctx, `ingest-d${i}`, data, lines, fixture, 'detached'))
      attached.push(await ingestRun(ctx, `ingest-a${i}`, data, lines, fixture, 'attached'))
      cat.push((await timed('cat', [data])).ms)
    }
  } finally {
    rmSync(data, {force: true})
  }
  const catRate = lines / (median(cat) / 1000)
  const yard = {yardstick: Math.round(catRate), yardstickCommand: 'cat > /dev/null'}
  const rates = (list) => list.map((r) => Math.round(r.rate)).join(', ')
  const lossless = (list) => list.every((r) => r.stored === lines)
  const storedText = (list) => `stored ${list.map((r) => r.stored).join(', ')} of ${lines} (${lossless(list) ? 'none lost' : 'LINES LOST'})`
  const source = `${fixture} repeated to ${lines} lines (${(bytes / 1e6).toFixed(0)} MB)`
  const main = valueRow({
    id: 'ingestion',
    figure: `ingestion: stub claude printing ${lines.toLocaleString('en')} stream-json lines`,
    value: Math.round(median(detached.map((r) => r.rate))),
    unit: 'lines/s',
    op: '>=',
    target: 100_000,
    ok: lossless(detached),
    runs,
    detail: `${source}; lines stored per second from \`task spawn --detach\` until \`task wait\` returns (the runner stores them, as for every detached and daemon task): ${rates(detached)}; ${storedText(detached)}; cat to /dev/null: ${cat.map((v) => v.toFixed(0)).join(', ')} ms`,
  })
  const cpuRates = attached.map((r) => r.cpuRate).filter((r) => r !== null)
  const info = valueRow({
    id: 'ingestion-attached',
    figure: `ingestion, attached with the transcript: ${lines.toLocaleString('en')} lines`,
    value: Math.round(median(attached.map((r) => r.rate))),
    unit: 'lines/s',
    runs,
    detail: `the same through attached \`task spawn --json\`, which also parses every line to render the transcript on stderr: ${rates(attached)} lines/s; ${storedText(attached)}${cpuRates.length ? `; per CPU-second of makima (user+sys): ${cpuRates.map((r) => Math.round(r)).join(', ')} lines/s` : ''}`,
  })
  if (!lossless(attached)) info.ok = false
  return [
    {...main, ...yard, ratio: round(main.makima / catRate, 3)},
    {...info, ...yard, ratio: round(info.makima / catRate, 3)},
  ]
}

/** Each: {id, title, measure(ctx) -> rows}; ctx = {scratch, quick, shared}. */
export const CLAUDE_FIGURES = [
  {id: 'tool-calls-150', title: 'attached task spawn of 150 tool calls vs claude alone', measure: toolCalls},
  {id: 'ingestion', title: 'ingestion of a stub claude printing 400k stream-json lines', measure: ingestion},
]
