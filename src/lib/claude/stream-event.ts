/**
 * Claude Code's `--output-format stream-json` lines, parsed once at the edge into a
 * discriminated union on `kind`. Everything downstream switches on `kind` and reads typed
 * fields; nothing matches substrings of raw lines.
 *
 * Hot path: one JSON.parse per line, hand-written guards, no allocation beyond the event and
 * its content blocks. Never throws: a line that is not a JSON object becomes `invalid`, a JSON
 * object of a type we do not model becomes `unknown`, and missing or mistyped fields become
 * null / empty defaults.
 *
 * Verified against the output of Claude Code 2.1.197 and 2.1.332 (test/fixtures/claude-stream-json/
 * and its 2.1.332/ folder, test/fixtures/claude-usage/), whose `result` lines have their fields in
 * another order: every field is read by name. What the usage numbers mean per version: usage.ts.
 */
import {rateLimitInfoOf, usageLimitOf, type RateLimitEvent, type UsageLimitEnd} from './rate-limit.js'

export type {RateLimitEvent} from './rate-limit.js'
import {modelsOf, tokenUsageOf, type TokenUsage} from './usage.js'

export type JsonObject = Record<string, unknown>

export type ContentBlock =
  | {type: 'text'; text: string}
  | {type: 'tool_use'; id: string; name: string; input: JsonObject}
  /** `content` is flattened: text blocks joined with newlines, images as "[image]". */
  | {type: 'tool_result'; toolUseId: string; content: string; isError: boolean}
  | {type: 'thinking'; text: string}
  | {type: 'other'; raw: unknown}

export interface InitEvent {
  kind: 'init'
  sessionId: string | null
  cwd: string | null
  model: string | null
  tools: string[]
  /** `claude_code_version`; `apiKeySource` ("none" on a subscription login) */
  version: string | null
  apiKeySource: string | null
  raw: JsonObject
}

export interface ApiRetryEvent {
  kind: 'api_retry'
  sessionId: string | null
  attempt: number
  maxRetries: number
  errorStatus: number | null
  /** e.g. "authentication_failed", "server_error" */
  error: string | null
  retryDelayMs: number
  raw: JsonObject
}

export interface SystemEvent {
  kind: 'system'
  /** e.g. "task_started", "task_notification", "compact_boundary"; "" when absent */
  subtype: string
  sessionId: string | null
  raw: JsonObject
}

export interface AssistantEvent {
  kind: 'assistant'
  sessionId: string | null
  /** `message.id`: one API response (a turn) can come as several lines with the same id */
  messageId: string | null
  content: ContentBlock[]
  /** true for messages Claude Code made up itself (API errors): `message.model === '<synthetic>'` */
  synthetic: boolean
  parentToolUseId: string | null
  /** the line's top-level `error` (e.g. "authentication_failed", "server_error"), if any */
  error: string | null
  raw: JsonObject
}

export interface UserEvent {
  kind: 'user'
  sessionId: string | null
  content: ContentBlock[]
  parentToolUseId: string | null
  raw: JsonObject
}

export interface ResultEvent {
  kind: 'result'
  sessionId: string | null
  isError: boolean
  apiErrorStatus: number | null
  /** "success" or "error_*"; can be "success" on a failure, so use `isError` */
  subtype: string
  result: string | null
  /** 0 when absent */
  durationMs: number
  costUsd: number | null
  /** 0 when absent */
  numTurns: number
  /** tokens of this result's turn (`usage`); `models`: the keys of `modelUsage` */
  usage: TokenUsage
  models: string[]
  /** e.g. "completed", "max_turns", "api_error" (newer versions) */
  terminalReason: string | null
  /** an error result that says a usage limit ended the run ("You've hit your 5-hour limit · resets 3pm"; rate-limit.ts) */
  usageLimit: UsageLimitEnd | null
  raw: JsonObject
}

export interface UnknownEvent {
  kind: 'unknown'
  type: string | null
  raw: JsonObject
}

export interface InvalidEvent {
  kind: 'invalid'
  line: string
  error: string
}

export type ClaudeEvent = InitEvent | ApiRetryEvent | SystemEvent | AssistantEvent | UserEvent | ResultEvent | RateLimitEvent | UnknownEvent | InvalidEvent

export type ClaudeEventKind = ClaudeEvent['kind']

// ---------------------------------------------------------------------------------------------
// guards

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

// ---------------------------------------------------------------------------------------------
// parser

/** Parses one stream-json line (with or without its trailing newline). Never throws. */
export function parseStreamLine(line: string): ClaudeEvent {
  // Cheap pre-check so stray text (stderr, partial lines) does not cost a thrown exception.
  let i = 0
  while (i < line.length && isSpace(line.charCodeAt(i))) i++
  if (i >= line.length) return {kind: 'invalid', line, error: 'empty line'}
  if (line.charCodeAt(i) !== 0x7b /* { */) return {kind: 'invalid', line, error: 'not a JSON object'}

  let parsed: unknown
  try {
    parsed = JSON.parse(line)
  } catch (err) {
    return {kind: 'invalid', line, error: err instanceof Error ? err.message : String(err)}
  }
  if (!isObject(parsed)) return {kind: 'invalid', line, error: 'not a JSON object'}
  return eventOf(parsed)
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || c === 0xfeff
}

/** Builds the event for an already parsed JSON object. */
export function eventOf(raw: JsonObject): ClaudeEvent {
  const type = str(raw.type)
  const sessionId = str(raw.session_id)
  switch (type) {
    case 'system':
      return systemEvent(raw, sessionId)
    case 'assistant': {
      const message = isObject(raw.message) ? raw.message : null
      return {
        kind: 'assistant',
        sessionId,
        messageId: str(message?.id),
        content: contentOf(message?.content),
        synthetic: message?.model === '<synthetic>',
        parentToolUseId: str(raw.parent_tool_use_id),
        error: str(raw.error),
        raw,
      }
    }
    case 'user': {
      const message = isObject(raw.message) ? raw.message : null
      return {
        kind: 'user',
        sessionId,
        content: contentOf(message?.content),
        parentToolUseId: str(raw.parent_tool_use_id),
        raw,
      }
    }
    case 'rate_limit_event':
      return {kind: 'rate_limit', sessionId, info: rateLimitInfoOf(raw.rate_limit_info), raw}
    case 'result':
      return {
        kind: 'result',
        sessionId,
        isError: raw.is_error === true,
        apiErrorStatus: num(raw.api_error_status),
        subtype: str(raw.subtype) ?? '',
        result: str(raw.result),
        durationMs: num(raw.duration_ms) ?? 0,
        costUsd: num(raw.total_cost_usd) ?? num(raw.cost_usd),
        numTurns: num(raw.num_turns) ?? 0,
        usage: tokenUsageOf(raw.usage),
        models: modelsOf(raw.modelUsage),
        terminalReason: str(raw.terminal_reason),
        usageLimit: raw.is_error === true || num(raw.api_error_status) === 429 ? usageLimitOf(str(raw.result)) : null,
        raw,
      }
    default:
      return {kind: 'unknown', type, raw}
  }
}

function systemEvent(raw: JsonObject, sessionId: string | null): ClaudeEvent {
  const subtype = str(raw.subtype) ?? ''
  if (subtype === 'init') {
    const tools: string[] = []
    if (Array.isArray(raw.tools)) for (const t of raw.tools) if (typeof t === 'string') tools.push(t)
    const version = str(raw.claude_code_version)
    return {kind: 'init', sessionId, cwd: str(raw.cwd), model: str(raw.model), tools, version, apiKeySource: str(raw.apiKeySource), raw}
  }
  if (subtype === 'api_retry') {
    return {
      kind: 'api_retry',
      sessionId,
      attempt: num(raw.attempt) ?? 0,
      maxRetries: num(raw.max_retries) ?? 0,
      errorStatus: num(raw.error_status),
      error: str(raw.error),
      retryDelayMs: num(raw.retry_delay_ms) ?? 0,
      raw,
    }
  }
  return {kind: 'system', subtype, sessionId, raw}
}

function contentOf(content: unknown): ContentBlock[] {
  if (typeof content === 'string') return [{type: 'text', text: content}]
  if (!Array.isArray(content)) return []
  const blocks: ContentBlock[] = []
  for (const b of content) blocks.push(blockOf(b))
  return blocks
}

function blockOf(b: unknown): ContentBlock {
  if (!isObject(b)) return typeof b === 'string' ? {type: 'text', text: b} : {type: 'other', raw: b}
  switch (b.type) {
    case 'text':
      if (typeof b.text === 'string') return {type: 'text', text: b.text}
      break
    case 'tool_use':
      return {
        type: 'tool_use',
        id: str(b.id) ?? '',
        name: str(b.name) ?? '',
        input: isObject(b.input) ? b.input : {},
      }
    case 'tool_result':
      return {
        type: 'tool_result',
        toolUseId: str(b.tool_use_id) ?? '',
        content: flattenToolResult(b.content),
        isError: b.is_error === true,
      }
    case 'thinking':
      if (typeof b.thinking === 'string') return {type: 'thinking', text: b.thinking}
      break
  }
  return {type: 'other', raw: b}
}

/** Tool result content is a string or an array of text/image blocks; make it one string. */
function flattenToolResult(content: unknown): string {
  if (typeof content === 'string') return content
  if (!Array.isArray(content)) return ''
  const parts: string[] = []
  for (const c of content) {
    if (typeof c === 'string') parts.push(c)
    else if (isObject(c)) {
      if (c.type === 'text' && typeof c.text === 'string') parts.push(c.text)
      else if (c.type === 'image') parts.push('[image]')
      else if (typeof c.type === 'string') parts.push(`[${c.type}]`)
    }
  }
  return parts.join('\n')
}

// ---------------------------------------------------------------------------------------------
// input
/**
 * One stdin message for `claude --input-format stream-json`, without the trailing newline
 * (the writer adds "\n"). Checked with the real CLI 2.1.197: a plain string content works.
 */
export function userMessageLine(text: string): string {
  return JSON.stringify({type: 'user', message: {role: 'user', content: text}})
}
