import {createHash} from 'node:crypto'
import {existsSync, lstatSync, readFileSync, readdirSync, readlinkSync} from 'node:fs'
import path from 'node:path'

import type {ClaudeEvent} from '../../claude/stream-event.js'
import {writeWorktreeTree} from '../../git/snapshot.js'
import type {TaskRecord} from '../../store/task-record.js'
import {blockerKey, parseLastGate, type GateReading} from './readiness-gate.js'
import type {TaskEvent, TaskEventSink} from '../events.js'

/**
 * The autonomous loop (docs/protocol.md "Completion gate"): a task run with `--autonomous` /
 * `autonomousLoop: true` is told to end every run with a COMPLETION_GATE block; after each run the
 * last block decides whether the task is done or Claude Code is started again with `--continue`
 * and a continuation prompt. A circuit breaker fails the task when the loop stops getting
 * anywhere. TaskManager.run drives it (the hook around each TaskRun); the decisions are pure
 * (AutonomousLoop), the observations (assistant text, worktree fingerprint) are AutonomousSession's.
 */

/** Appended to the task's system prompt (after its role prompt) when the task is autonomous. */
export const COMPLETION_GATE_PROMPT = `
## Autonomous mode: the completion gate
You run in a loop with no person watching. When you stop, makima starts you again in this same conversation to keep going, until you declare the task done (within limits).
End every run with exactly one block like this, as the very last thing you write:

<COMPLETION_GATE>
{"ready": false, "reason": "one sentence: why the task is or is not done", "blockers": ["what still stands in the way, most important first"]}
</COMPLETION_GATE>

- "ready": true only when everything the plan asks for is done AND you have checked it (built it, ran the tests, or otherwise verified the result). Then "blockers" is [].
- "ready": false otherwise: say what is missing in "reason" and list what blocks you in "blockers", the most important first. You will be started again to continue from where you stopped.
- The block must be valid JSON (double quotes, no comments, no trailing commas). Only the last block of a run counts.
- Make progress in every run. Runs that change nothing in the worktree, or that report the same first blocker again and again, stop the loop and the task fails. If something outside your control blocks you (missing access, an unclear plan), name it as the first blocker and stop.
`

/** Marks continuation prompts (tests and people reading a transcript can recognise them). */
export const CONTINUATION_MARKER = '[makima autonomous loop]'

export interface AutonomousLimits {
  maxRuns: number
  maxRunsWithoutProgress: number
  maxSameBlocker: number
}

/** What one run left behind. */
export interface RunObservation {
  /** the run's assistant text (top-level, not Claude Code's synthetic messages) */
  text: string
  /** whether the worktree (tracked and untracked files) differs from before the run */
  worktreeChanged: boolean
}

export type LoopDecision =
  {action: 'complete'; run: number; line: string} | {action: 'continue'; run: number; nextRun: number; line: string; prompt: string} | {action: 'fail'; run: number; line: string; error: string}

/**
 * The loop's bookkeeping and decisions, with no I/O: feed it each run's observation, it says
 * complete, continue (with the progress line and the continuation prompt) or fail (circuit breaker).
 */
export class AutonomousLoop {
  /** runs finished so far */
  run = 0
  private withoutProgress = 0
  private sameBlocker = 0
  private lastBlocker: string | null = null

  constructor(readonly limits: AutonomousLimits) {}

  /** The line shown when run 1 starts. */
  firstLine(): string {
    return `Autonomous run 1 of at most ${this.limits.maxRuns}: starting with the plan`
  }

  afterRun(observation: RunObservation): LoopDecision {
    const run = ++this.run
    const {maxRuns, maxRunsWithoutProgress, maxSameBlocker} = this.limits
    const gate = parseLastGate(observation.text)
    if (gate.kind === 'gate' && gate.ready) {
      return {action: 'complete', run, line: `Autonomous run ${run} of at most ${maxRuns}: ready${gate.reason ? `: ${gate.reason}` : ''}`}
    }
    const because = notReadyReason(run, gate)

    const hadOutput = observation.text.trim() !== ''
    const progressed = hadOutput && observation.worktreeChanged
    this.withoutProgress = progressed ? 0 : this.withoutProgress + 1
    const first = gate.kind === 'gate' && gate.blockers.length > 0 ? gate.blockers[0] : null
    const key = first === null ? null : blockerKey(first)
    this.sameBlocker = key !== null && key === this.lastBlocker ? this.sameBlocker + 1 : key === null ? 0 : 1
    this.lastBlocker = key

    const tripped: string[] = []
    if (this.withoutProgress >= maxRunsWithoutProgress) {
      const why = hadOutput ? 'the worktree did not change' : 'Claude Code wrote nothing'
      tripped.push(`${this.withoutProgress} consecutive run${this.withoutProgress === 1 ? '' : 's'} without progress (last: ${why}; autonomous.maxRunsWithoutProgress is ${maxRunsWithoutProgress})`)
    }
    if (first !== null && this.sameBlocker >= maxSameBlocker) {
      tripped.push(`the same first blocker ${this.sameBlocker} times in a row: "${first}" (autonomous.maxSameBlocker is ${maxSameBlocker})`)
    }
    if (run >= maxRuns) tripped.push(`${run} run${run === 1 ? '' : 's'} without being ready (autonomous.maxRuns is ${maxRuns})`)
    if (tripped.length > 0) {
      const error = `autonomous loop stopped by its circuit breaker after run ${run}: ${tripped.join('; ')}. Last gate: ${because}`
      return {action: 'fail', run, error, line: `Autonomous run ${run}: ${because}. Circuit breaker: ${tripped.join('; ')}`}
    }
    const nextRun = run + 1
    return {
      action: 'continue',
      run,
      nextRun,
      line: `Autonomous run ${nextRun} of at most ${maxRuns}: continuing because ${because}`,
      prompt: continuationPrompt(nextRun, maxRuns, gate),
    }
  }
}

/** Why a run was not the last one, for people: "run 2 is not ready: ...", "run 2: the COMPLETION_GATE block is not valid JSON: ...". */
export function notReadyReason(run: number, gate: GateReading): string {
  switch (gate.kind) {
    case 'none':
      return `run ${run} is not ready: no completion gate`
    case 'malformed':
      return `run ${run}: ${gate.problem}`
    case 'gate': {
      const blockers = gate.blockers.length > 0 ? ` (blockers: ${gate.blockers.join('; ')})` : ''
      return `run ${run} is not ready: ${gate.reason || 'no reason given'}${blockers}`
    }
  }
}

/** The first message of the next run: what the last gate said, quoted, and what to do now. */
export function continuationPrompt(nextRun: number, maxRuns: number, gate: GateReading): string {
  const lines = [`${CONTINUATION_MARKER} This is run ${nextRun} of at most ${maxRuns}. Your previous run ended without the task being ready.`]
  switch (gate.kind) {
    case 'none':
      lines.push('Your previous run did not end with a COMPLETION_GATE block.')
      break
    case 'malformed':
      lines.push(`Your COMPLETION_GATE block could not be read: ${gate.problem}.`)
      lines.push('Write it exactly in the form {"ready": true|false, "reason": "...", "blockers": ["..."]} between the tags.')
      break
    case 'gate':
      lines.push(`The reason you gave: "${gate.reason || '(none)'}"`)
      if (gate.blockers.length > 0) {
        lines.push('The blockers you listed:')
        for (const b of gate.blockers) lines.push(`- "${b}"`)
      } else {
        lines.push('You listed no blockers.')
      }
      break
  }
  lines.push(
    'Continue the task from where you left off: deal with what is listed above, check your work, and end this run with a COMPLETION_GATE block as your instructions describe ("ready": true only when the whole plan is done and checked).',
  )
  return lines.join('\n')
}

/** The run's assistant text from one event (top-level text blocks; not tool or synthetic messages). */
export function assistantText(event: ClaudeEvent | undefined): string {
  if (!event || event.kind !== 'assistant' || event.synthetic || event.parentToolUseId !== null) return ''
  let text = ''
  for (const block of event.content) if (block.type === 'text') text += `${block.text}\n`
  return text
}

/**
 * One autonomous task inside TaskManager.run: collects each run's assistant text from the task's
 * events, fingerprints the worktree before and after, and asks AutonomousLoop what comes next.
 */
export class AutonomousSession {
  readonly loop: AutonomousLoop
  private text = ''
  private before: string | null = null

  constructor(
    private readonly task: TaskRecord,
    limits: AutonomousLimits,
    private readonly progress: (message: string) => void,
  ) {
    this.loop = new AutonomousLoop(limits)
  }

  /** Before run 1: the worktree's fingerprint and the first progress line. */
  async begin(): Promise<void> {
    this.before = await worktreeFingerprint(this.task)
    this.progress(this.loop.firstLine())
  }

  /** Wrap the manager's sink: the task's assistant text is collected on its way through. */
  tap(sink: TaskEventSink): TaskEventSink {
    return (event: TaskEvent) => {
      if (event.type === 'output' && event.taskId === this.task.id) this.text += assistantText(event.event)
      sink(event)
    }
  }

  /** After a run that ended normally: the decision, with its progress line already shown. */
  async afterRun(): Promise<LoopDecision> {
    const after = await worktreeFingerprint(this.task)
    const decision = this.loop.afterRun({text: this.text, worktreeChanged: after !== this.before})
    this.before = after
    this.text = ''
    this.progress(decision.line)
    return decision
  }
}

/**
 * A hash of the worktree's content, tracked and untracked files (git's ignored files excluded):
 * the tree git would write for it (git/snapshot.ts, a temporary index). A task without a
 * repository (a temp directory) or a broken worktree gets a hash of its files instead.
 */
export async function worktreeFingerprint(task: Pick<TaskRecord, 'worktreePath' | 'repoPath'>): Promise<string> {
  const dir = task.worktreePath
  if (!dir || !existsSync(dir)) return 'missing'
  if (task.repoPath && existsSync(path.join(dir, '.git'))) {
    try {
      return `git:${await writeWorktreeTree(dir)}`
    } catch {
      // fall back to hashing the files
    }
  }
  return `files:${hashDirectory(dir)}`
}

const MAX_HASHED_BYTES = 1024 * 1024

/** Paths, link targets and contents (size and mtime for files over 1 MiB) of every file below `root`, `.git` excluded. */
export function hashDirectory(root: string): string {
  const hash = createHash('sha256')
  const walk = (dir: string, rel: string): void => {
    let entries: string[]
    try {
      entries = readdirSync(dir).sort()
    } catch {
      return
    }
    for (const name of entries) {
      if (name === '.git') continue
      const full = path.join(dir, name)
      const relPath = rel ? `${rel}/${name}` : name
      let st
      try {
        st = lstatSync(full)
      } catch {
        continue
      }
      if (st.isDirectory()) {
        hash.update(`d ${relPath}\0`)
        walk(full, relPath)
      } else if (st.isSymbolicLink()) {
        hash.update(`l ${relPath} ${safe(() => readlinkSync(full), '')}\0`)
      } else if (st.isFile()) {
        hash.update(`f ${relPath} ${st.size}\0`)
        if (st.size <= MAX_HASHED_BYTES) hash.update(safe(() => readFileSync(full), Buffer.alloc(0)))
        else hash.update(`${st.mtimeMs}\0`)
      }
    }
  }
  walk(root, '')
  return hash.digest('hex')
}

function safe<T>(fn: () => T, fallback: T): T {
  try {
    return fn()
  } catch {
    return fallback
  }
}
