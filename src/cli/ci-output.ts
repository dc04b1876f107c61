// What an attached `task spawn` prints for CI (docs/cli.md "In CI"): a plain transcript (no
// spinner, no color, each line written at once), one summary line at the end, and with
// GITHUB_STEP_SUMMARY set a Markdown summary appended to that file.
import {execFileSync} from 'node:child_process'
import {appendFileSync} from 'node:fs'

import type {OutputLine} from '../lib/store/output-store.js'
import type {TaskRecord} from '../lib/store/task-record.js'
import {TaskView} from '../lib/ui/task-view.js'

/** CI (CI set to anything but "", "0" or "false") or output that is not a terminal. */
export function plainOutput(out: {isTTY?: boolean}, env: Record<string, string | undefined>): boolean {
  const ci = env.CI !== undefined && !['', '0', 'false'].includes(env.CI.toLowerCase())
  return ci || !out.isTTY
}

function duration(task: TaskRecord): string | undefined {
  if (!task.startedAt || !task.completedAt) return undefined
  const s = (Date.parse(task.completedAt) - Date.parse(task.startedAt)) / 1000
  return s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`
}

const money = (usd: number) => `$${usd.toFixed(usd < 1 ? 4 : 2)}`

/** The one line an attached spawn ends with: state, duration, cost if known, branch (and the error). */
export function summaryLine(task: TaskRecord, costUsd: number | null): string {
  const parts = [`Task ${task.shortId} ${task.state}`]
  const took = duration(task)
  if (took) parts[0] += ` in ${took}`
  if (costUsd !== null) parts.push(`cost ${money(costUsd)}`)
  if (task.branch) parts.push(`branch ${task.branch}`)
  if (task.completionAction?.url) parts.push(`PR ${task.completionAction.url}`)
  if (task.worktreePath && task.state === 'completed') parts.push(`worktree ${task.worktreePath}`)
  return `${parts.join(', ')}${task.error ? `: ${task.error}` : ''}`
}

function git(cwd: string, args: string[]): string {
  try {
    return execFileSync('git', args, {cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trimEnd()
  } catch {
    return ''
  }
}

/** Files changed since the task's base (committed and not) and the diffstat, from its worktree. */
export function changesOf(task: TaskRecord): {files: string[]; diffstat: string} {
  if (!task.worktreePath || !task.baseSha) return {files: [], diffstat: ''}
  const tracked = git(task.worktreePath, ['diff', '--name-only', task.baseSha]).split('\n')
  const untracked = git(task.worktreePath, ['ls-files', '--others', '--exclude-standard']).split('\n')
  const files = [...new Set([...tracked, ...untracked].filter(Boolean))].sort()
  return {files, diffstat: git(task.worktreePath, ['diff', '--stat', task.baseSha])}
}

/** The Markdown summary of an ended task: plan, outcome, files changed, diffstat, cost, PR URL. */
export function markdownSummary(task: TaskRecord, costUsd: number | null): string {
  const {files, diffstat} = changesOf(task)
  const fence = (text: string) => `\`\`\`\n${text.replace(/```/g, '`\u200b``')}\n\`\`\``
  const lines = [`### makima task ${task.shortId}: ${task.state}`, '', '**Plan**', '', fence(task.plan), '']
  const outcome = [`- State: ${task.state}${task.error ? ` (${task.error})` : ''}`]
  const took = duration(task)
  if (took) outcome.push(`- Duration: ${took}`)
  outcome.push(`- Cost: ${costUsd === null ? 'unknown' : money(costUsd)}`)
  if (task.branch) outcome.push(`- Branch: \`${task.branch}\``)
  if (task.completionAction) {
    const a = task.completionAction
    outcome.push(`- Completion action: ${a.action}${a.ok === false ? ` failed: ${a.error ?? ''}` : ''}`)
    if (a.url) outcome.push(`- Pull request: ${a.url}`)
  }
  lines.push('**Outcome**', '', ...outcome, '', `**Files changed** (${files.length})`, '')
  lines.push(...(files.length > 0 ? files.map((f) => `- \`${f}\``) : ['none']), '')
  if (diffstat) lines.push('**Diffstat**', '', fence(diffstat), '')
  return `${lines.join('\n')}\n`
}

/** Appends the Markdown summary to $GITHUB_STEP_SUMMARY when it is set; a failure is only a warning. */
export function appendStepSummary(env: Record<string, string | undefined>, task: TaskRecord, costUsd: number | null): void {
  const file = env.GITHUB_STEP_SUMMARY
  if (!file) return
  try {
    appendFileSync(file, markdownSummary(task, costUsd))
  } catch (error) {
    process.stderr.write(`makima: could not append the summary to GITHUB_STEP_SUMMARY (${file}): ${(error as Error).message}\n`)
  }
}

/** `task logs --format markdown`: the summary, then the plain transcript in a collapsed block. */
export function markdownLogs(task: TaskRecord, read: (after: number) => OutputLine[]): string {
  let text = ''
  const view = new TaskView({out: {write: (chunk: string) => ((text += chunk), true)} as unknown as NodeJS.WritableStream, color: false})
  for (let after = 0; ;) {
    const lines = read(after)
    for (const line of lines) view.onStoredLine(line)
    if (lines.length === 0) break
    after = lines.at(-1)!.seq
  }
  view.flush()
  const transcript = text.replace(/```/g, '`\u200b``').trimEnd()
  return `${markdownSummary(task, view.costUsd)}<details><summary>Transcript</summary>\n\n\`\`\`text\n${transcript}\n\`\`\`\n\n</details>\n`
}
