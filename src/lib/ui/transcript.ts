/**
 * A readable transcript of a Claude Code session for people, in the spirit of Claude Code's
 * own terminal UI: assistant text as is, one "⏺ Tool(summary)" line per tool call, the first
 * lines of each tool result under "⎿", and a final done/failed line.
 *
 * Pure: `render` returns lines to print (no trailing newlines) and never writes anywhere.
 * The caller decides `color` (isTTY, NO_COLOR); this module only respects the flag.
 */
import {formatReset} from '../claude/rate-limit.js'
import type {ClaudeEvent, ContentBlock, JsonObject} from '../claude/stream-event.js'

export interface TranscriptOptions {
  color: boolean
  /** terminal columns used to truncate tool lines; default 100 */
  width?: number
}

type Style = 'dim' | 'bold' | 'red' | 'green' | 'cyan'

const ANSI: Record<Style, readonly [number, number]> = {
  dim: [2, 22],
  bold: [1, 22],
  red: [31, 39],
  green: [32, 39],
  cyan: [36, 39],
}

const MAX_RESULT_LINES = 5
const MAX_JSON_SUMMARY = 100
const RESULT_INDENT = '  ⎿  '
const RESULT_CONT = '     '

export class TranscriptRenderer {
  private readonly color: boolean
  private readonly width: number
  /** tool_use id -> tool name, to describe results; entries are dropped once answered */
  private readonly toolNames = new Map<string, string>()
  /** the session runs on a subscription login: the costs its results report are estimates at API prices */
  private costEstimated = false

  constructor(options: TranscriptOptions) {
    this.color = options.color
    this.width = Math.max(20, Math.floor(options.width ?? 100))
  }

  render(event: ClaudeEvent): string[] {
    switch (event.kind) {
      case 'init': {
        const session = event.sessionId ? event.sessionId.slice(0, 8) : '?'
        this.costEstimated = event.apiKeySource === 'none'
        const estimate = this.costEstimated ? ' · subscription login: ~costs are estimates at API prices' : ''
        return [this.paint('dim', `session ${session} · model ${event.model ?? '?'}${estimate}`)]
      }
      case 'assistant':
        return this.renderAssistant(event.content, event.synthetic)
      case 'user':
        return this.renderUser(event.content)
      case 'api_retry': {
        const what = event.errorStatus !== null ? `API error ${event.errorStatus}` : `API error ${event.error ?? ''}`.trimEnd()
        return [this.paint('red', `! ${what}, retry ${event.attempt}/${event.maxRetries}`)]
      }
      case 'result':
        return [this.renderResult(event)]
      case 'rate_limit': {
        // what the API's rate-limit headers said: only a refusal is worth a line (issue 19 §3)
        const {info} = event
        if (info.status !== 'rejected') return []
        const until = info.resetsAtMs === null ? '' : ` until ${formatReset(info.resetsAtMs)}`
        return [this.paint('red', `! rate limited${until} (${info.rateLimitType ?? 'unknown'})`)]
      }
      case 'invalid':
        return [event.line]
      case 'system':
      case 'unknown':
        return []
    }
  }

  /** makima's own progress lines, e.g. renderProgress('Worktree ready at /x') -> "▸ Worktree ready at /x". */
  renderProgress(text: string): string {
    const line = text.startsWith('▸') ? text : `▸ ${text}`
    return this.paint('cyan', line)
  }

  // -------------------------------------------------------------------------------------------

  private renderAssistant(content: ContentBlock[], synthetic: boolean): string[] {
    const out: string[] = []
    for (const block of content) {
      if (block.type === 'text') {
        if (block.text.trim() === '') continue
        for (const line of block.text.split('\n')) out.push(synthetic ? this.paint('red', line) : line)
      } else if (block.type === 'tool_use') {
        if (block.id) this.toolNames.set(block.id, block.name)
        out.push(this.renderToolUse(block.name, block.input))
      }
    }
    return out
  }

  private renderToolUse(name: string, input: JsonObject): string {
    const head = `⏺ ${name || 'tool'}(`
    const room = Math.max(10, this.width - head.length - 1)
    const summary = truncate(summariseInput(name, input), room)
    return `${this.paint('green', '⏺')} ${this.paint('bold', name || 'tool')}(${summary})`
  }

  private renderUser(content: ContentBlock[]): string[] {
    const out: string[] = []
    for (const block of content) {
      if (block.type === 'tool_result') {
        const name = this.toolNames.get(block.toolUseId)
        this.toolNames.delete(block.toolUseId)
        out.push(...this.renderToolResult(name, block.content, block.isError))
      } else if (block.type === 'text' && block.text.trim() !== '') {
        // Follow-up messages (stdin) or notices such as "[Request interrupted by user]".
        out.push(this.paint('dim', truncate(`› ${firstLineOf(block.text)}`, this.width)))
      }
    }
    return out
  }

  private renderToolResult(tool: string | undefined, content: string, isError: boolean): string[] {
    const room = this.width - RESULT_INDENT.length
    const text = stripControl(content).replace(/\s+$/, '')
    if (!isError && (text === '' || /^\(\w+ completed with no output\)$/.test(text))) {
      return [this.paint('dim', `${RESULT_INDENT}(no output)`)]
    }
    const lines = text.split('\n')
    if (!isError && tool === 'Read') {
      // File contents are noise in a transcript; Claude Code shows the count too.
      return [this.paint('dim', `${RESULT_INDENT}Read ${lines.length} line${lines.length === 1 ? '' : 's'}`)]
    }
    const shown = lines.slice(0, MAX_RESULT_LINES)
    const out: string[] = []
    shown.forEach((line, i) => {
      let body = i === 0 && isError ? `Error${tool ? ` (${tool})` : ''}: ${line}` : line
      body = truncate(body, room)
      const prefix = i === 0 ? RESULT_INDENT : RESULT_CONT
      out.push(isError ? this.paint('red', prefix + body) : prefix + body)
    })
    if (lines.length > shown.length) {
      out.push(this.paint('dim', `  … +${lines.length - shown.length} lines`))
    }
    return out
  }

  private renderResult(event: Extract<ClaudeEvent, {kind: 'result'}>): string {
    const failed = event.isError || event.subtype.startsWith('error')
    if (failed) {
      const why = event.result?.trim() || event.subtype || 'unknown error'
      const status = event.apiErrorStatus !== null && !why.includes(String(event.apiErrorStatus)) ? ` (API ${event.apiErrorStatus})` : ''
      return this.paint('red', `✗ failed: ${firstLineOf(why)}${status}`)
    }
    const parts = [`✓ done in ${formatDuration(event.durationMs)}`]
    if (event.costUsd !== null) parts.push(`${this.costEstimated ? '~' : ''}${formatCost(event.costUsd)}`)
    parts.push(`${event.numTurns} turn${event.numTurns === 1 ? '' : 's'}`)
    return this.paint('green', parts.join(' · '))
  }

  private paint(style: Style, text: string): string {
    if (!this.color) return text
    const [open, close] = ANSI[style]
    return `\u001b[${open}m${text}\u001b[${close}m`
  }
}

// ---------------------------------------------------------------------------------------------

/** The input field that sums up a call of each tool (Bash: the first line of its command). */
const SUMMARY_FIELD = new Map<string, string>([
  ['Read', 'file_path'],
  ['Write', 'file_path'],
  ['Edit', 'file_path'],
  ['MultiEdit', 'file_path'],
  ['NotebookEdit', 'notebook_path'],
  ['Grep', 'pattern'],
  ['Glob', 'pattern'],
  ['WebFetch', 'url'],
  ['WebSearch', 'query'],
  ['Task', 'description'],
  ['Agent', 'description'],
])

function summariseInput(tool: string, input: JsonObject): string {
  const field = (key: string): string | null => (typeof input[key] === 'string' ? (input[key] as string) : null)
  const cmd = tool === 'Bash' ? field('command') : null
  if (cmd !== null) {
    const first = firstLineOf(cmd.trim())
    return cmd.trim().includes('\n') ? `${first} …` : first
  }
  const key = SUMMARY_FIELD.get(tool)
  const value = key === undefined ? null : field(key)
  if (value !== null) return value
  let json: string
  try {
    json = JSON.stringify(input) ?? ''
  } catch {
    json = '…'
  }
  return truncate(json, MAX_JSON_SUMMARY)
}

function firstLineOf(text: string): string {
  const nl = text.indexOf('\n')
  return nl === -1 ? text : text.slice(0, nl)
}

function truncate(text: string, max: number): string {
  if (text.length <= max) return text
  return max <= 1 ? '…' : text.slice(0, max - 1) + '…'
}

/* eslint-disable no-control-regex -- ANSI escapes are what this drops (a block: prettier may break the line) */
/** Drops ANSI escapes and carriage returns from tool output so they cannot garble the terminal. */
function stripControl(text: string): string {
  const clean = text
    .replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, '')
    .replace(/\r\n/g, '\n')
    .replace(/\t/g, '  ')
  if (!clean.includes('\r')) return clean
  // A bare \r rewrites the line (progress bars): keep what a terminal would finally show.
  return clean
    .split('\n')
    .map((line) => {
      const trimmed = line.replace(/\r+$/, '')
      return trimmed.slice(trimmed.lastIndexOf('\r') + 1)
    })
    .join('\n')
}
/* eslint-enable no-control-regex */

function formatDuration(ms: number): string {
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(1)}s`
  const m = Math.floor(s / 60)
  const rest = Math.round(s - m * 60)
  return `${m}m ${rest}s`
}

function formatCost(usd: number): string {
  return usd >= 1 ? `$${usd.toFixed(2)}` : `$${usd.toFixed(4)}`
}
