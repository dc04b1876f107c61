// The queue (issue 19 §4-5):
//
//   queue-50  50 `task spawn --detach --queue` with `process.maxConcurrentTasks` 5, each task a
//             stub claude that works for 0.5 s; every stub writes the time it started and ended
//             (ns) to a file. With the cap full, the k-th task to start after the first five takes
//             the slot the k-th task to end has freed: its gap is that start minus that end (what
//             a user waits between one task's claude ending and the next queued claude starting:
//             makima's end of the task, the promotion, the runner's start-up and the spawn). The
//             largest gap counts; target < 250 ms. The stubs wait until all 50 are spawned, so the
//             queue is full before the first task ends.
//
// Claude Code is a stub here: the figure measures makima's queue, not claude; 50 real claudes
// (~260 MB each, five at once) would measure the machine.
import {mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import path from 'node:path'

import {benchWorld, git, makima, median, round, valueRow, waitEnded, writeScript} from './support.js'

/** The stub: records its start and end (ns since the epoch), prints a short stream, ends. */
function workStub(dir, marks) {
  const init = JSON.stringify({type: 'system', subtype: 'init', session_id: '00000000-0000-4000-8000-000000000001', tools: [], model: 'stub'})
  const result = JSON.stringify({
    type: 'result',
    subtype: 'success',
    is_error: false,
    duration_ms: 500,
    num_turns: 1,
    result: 'done',
    session_id: '00000000-0000-4000-8000-000000000001',
    total_cost_usd: 0,
  })
  return writeScript(
    path.join(dir, 'claude-stub'),
    `#!/bin/bash
# STUB claude (bench/queue-figures.js): this figure measures how fast makima's queue hands a freed
# slot to the next task; it stands for a claude that works 0.5 s. It records when it started and
# ended, so the gaps are measured from claude to claude. It waits for the bench's go file first, so
# every task is queued before the first one ends.
while [ ! -e ${JSON.stringify(marks)}/go ]; do sleep 0.02; done
start=$(date +%s%N)
echo '${init}'
sleep 0.5
echo '${result}'
echo "$start $(date +%s%N)" > ${JSON.stringify(marks)}/$$
`,
  )
}

async function queue50({scratch, quick}) {
  const count = quick ? 20 : 50
  const cap = 5
  const world = benchWorld(scratch, 'queue')
  const marks = path.join(world.dir, 'marks')
  mkdirSync(marks)
  const repo = path.join(world.dir, 'repo')
  git(['init', '-q', '-b', 'main', repo], world.dir, world.env)
  git(['commit', '-q', '--allow-empty', '-m', 'init'], repo, world.env)
  const env = {...world.env, MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND: workStub(world.dir, marks), MAKIMA_DAEMON_PROCESS_MAXCONCURRENTTASKS: String(cap)}
  const ids = []
  for (let i = 0; i < count; i++) {
    const {stdout} = await makima(['task', 'spawn', '--detach', '--queue', '--json', '--repo', repo, '--name', `queued ${i}`, `task ${i}`], {env, capture: true})
    ids.push(JSON.parse(stdout).taskId)
  }
  writeFileSync(path.join(marks, 'go'), '')
  const tasks = await waitEnded(world.db, ids, 300_000)
  const failed = tasks.filter((t) => t.state !== 'completed')
  if (failed.length > 0) throw new Error(`queue-50: ${failed.length} tasks did not complete: ${failed[0].shortId} ${failed[0].state} ${failed[0].error ?? ''}`)
  const runs = readdirSync(marks)
    .filter((f) => /^\d+$/.test(f))
    .map((f) => readFileSync(path.join(marks, f), 'utf8').trim().split(' ').map(Number))
  if (runs.length !== count) throw new Error(`queue-50: ${runs.length} stub runs recorded for ${count} tasks`)
  const starts = runs.map(([s]) => s).sort((a, b) => a - b)
  const ends = runs.map(([, e]) => e).sort((a, b) => a - b)
  const gaps = []
  for (let k = 0; k + cap < count; k++) gaps.push((starts[k + cap] - ends[k]) / 1e6)
  const largest = Math.max(...gaps)
  const wall = (ends[ends.length - 1] - starts[0]) / 1e9
  return [
    valueRow({
      id: 'queue-50',
      figure: `${count} queued tasks at a cap of ${cap} (stub claude, 0.5 s each): largest end -> next start`,
      value: round(largest, 0),
      unit: 'ms',
      op: '<',
      target: 250,
      runs: gaps.length,
      detail: `${gaps.length} hand-overs: median ${round(median(gaps), 0)} ms, largest ${round(largest, 0)} ms; all ${count} completed in ${round(wall, 1)} s (${round((count * 0.5) / cap, 1)} s of stub work per slot)`,
    }),
  ]
}

export const QUEUE_FIGURES = [{id: 'queue-50', title: '50 queued tasks at a cap of 5', measure: queue50}]
