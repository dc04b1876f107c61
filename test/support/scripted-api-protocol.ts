// Wire format of the scripted Anthropic Messages API: request parsing (the context a script
// sees) and reply encoding (JSON message and server-sent events), as the real API does it.

/** One block of a scripted assistant reply. `id` of a tool_use is generated when omitted. */
export type ReplyBlock = {type: 'text'; text: string} | {type: 'tool_use'; name: string; input: Record<string, unknown>; id?: string}

/**
 * `{headers, then}`: `then`, with these extra response headers (e.g. `retry-after`,
 * `anthropic-ratelimit-unified-status`; rateLimitHeaders below), on an error status as on a success.
 */
export type Reply =
  {text: string} | {bash: string} | {blocks: ReplyBlock[]} | {status: number; error?: string} | {delayMs: number; then: Reply} | {hang: true} | {headers: Record<string, string>; then: Reply}

/**
 * The rate-limit response headers of the real API for a subscription login
 * (`anthropic-ratelimit-unified-*`, as Claude Code reads them) and `retry-after` when given.
 * `resetsAt`: epoch seconds; `claim`: the window that limits ("five_hour", "seven_day", ...).
 */
export function rateLimitHeaders(o: {status: 'allowed' | 'allowed_warning' | 'rejected'; resetsAt: number; claim?: string; utilization?: number; retryAfterSecs?: number}): Record<string, string> {
  const claim = o.claim ?? 'five_hour'
  const window = claim === 'seven_day' ? '7d' : '5h'
  const h: Record<string, string> = {
    'anthropic-ratelimit-unified-status': o.status,
    'anthropic-ratelimit-unified-reset': String(o.resetsAt),
    'anthropic-ratelimit-unified-representative-claim': claim,
    [`anthropic-ratelimit-unified-${window}-status`]: o.status,
    [`anthropic-ratelimit-unified-${window}-reset`]: String(o.resetsAt),
    [`anthropic-ratelimit-unified-${window}-utilization`]: String(o.utilization ?? (o.status === 'allowed' ? 0.2 : o.status === 'allowed_warning' ? 0.9 : 1)),
    'anthropic-ratelimit-unified-fallback-percentage': '0.5',
    'anthropic-ratelimit-requests-limit': '50',
    'anthropic-ratelimit-requests-remaining': o.status === 'rejected' ? '0' : '40',
    'anthropic-ratelimit-requests-reset': new Date(o.resetsAt * 1000).toISOString(),
  }
  if (o.retryAfterSecs !== undefined) h['retry-after'] = String(o.retryAfterSecs)
  return h
}

export interface ToolResult {
  tool_use_id: string
  /** The tool_result content flattened to a string (text blocks joined with "\n"). */
  content: string
  is_error: boolean
}

/** A request as the server received it; `body` is the parsed JSON or undefined. */
export interface RecordedRequest {
  method: string
  url: string
  headers: Record<string, string | string[] | undefined>
  body: any
  at: number
}

export interface ScriptContext {
  /** Parsed JSON body of the POST /v1/messages request. */
  body: any
  request: RecordedRequest
  /** Number of assistant messages already in `messages` (`role: "system"` ones are not counted). */
  turn: number
  /** Text of the most recent user message that carried real text (not a system-reminder). */
  lastUserText: string
  /** Text of the first user message that carried real text. */
  firstUserText: string
  /** tool_result blocks of the last user message. */
  toolResults: ToolResult[]
  /** The system prompt flattened to a string. */
  system: string
  stream: boolean
}

export type Script = (ctx: ScriptContext) => Reply | Promise<Reply>

type Block = {type?: string; text?: string; content?: unknown; tool_use_id?: string; is_error?: boolean}

function blocksOf(content: unknown): Block[] {
  if (typeof content === 'string') return [{type: 'text', text: content}]
  return Array.isArray(content) ? (content as Block[]) : []
}

function flatten(content: unknown): string {
  return blocksOf(content)
    .map((b) => (b.type === 'text' && typeof b.text === 'string' ? b.text : ''))
    .filter((t) => t !== '')
    .join('\n')
}

/** The last text block of a user message that is not a `<system-reminder>`; undefined when none. */
export function realUserText(content: unknown): string | undefined {
  const texts = blocksOf(content)
    .filter((b) => b.type === 'text' && typeof b.text === 'string')
    .map((b) => b.text as string)
    .filter((t) => !t.trimStart().startsWith('<system-reminder>'))
  return texts.length > 0 ? texts[texts.length - 1] : undefined
}

export function buildContext(body: any, request: RecordedRequest): ScriptContext {
  const messages: {role?: string; content?: unknown}[] = Array.isArray(body?.messages) ? body.messages : []
  const userTexts = messages
    .filter((m) => m.role === 'user')
    .map((m) => realUserText(m.content))
    .filter((t): t is string => t !== undefined)
  // The CLI may put `role: "system"` messages (mid-conversation system beta) after the user one.
  const lastUser = [...messages].reverse().find((m) => m.role === 'user')
  const toolResults: ToolResult[] =
    lastUser !== undefined
      ? blocksOf(lastUser.content)
          .filter((b) => b.type === 'tool_result')
          .map((b) => ({
            tool_use_id: String(b.tool_use_id ?? ''),
            content: flatten(b.content),
            is_error: b.is_error === true,
          }))
      : []
  return {
    body,
    request,
    turn: messages.filter((m) => m.role === 'assistant').length,
    lastUserText: userTexts[userTexts.length - 1] ?? '',
    firstUserText: userTexts[0] ?? '',
    toolResults,
    system: flatten(body?.system),
    stream: body?.stream === true,
  }
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  529: 'overloaded_error',
}

export function errorBody(status: number, message?: string): string {
  const type = ERROR_TYPES[status] ?? 'api_error'
  return JSON.stringify({type: 'error', error: {type, message: message ?? 'scripted failure'}})
}

let toolSeq = 0

/** The content blocks of a text/bash/blocks reply, with tool_use ids filled in. */
export function replyBlocks(reply: {text: string} | {bash: string} | {blocks: ReplyBlock[]}): ReplyBlock[] {
  let blocks: ReplyBlock[]
  if ('text' in reply) blocks = [{type: 'text', text: reply.text}]
  else if ('bash' in reply) blocks = [{type: 'tool_use', name: 'Bash', input: {command: reply.bash, description: 'scripted step'}}]
  else blocks = reply.blocks
  return blocks.map((b) => (b.type === 'tool_use' ? {...b, id: b.id ?? `toolu_scripted_${++toolSeq}`} : b))
}

export function messageJson(id: string, model: string, blocks: ReplyBlock[]): Record<string, unknown> {
  return {
    id,
    type: 'message',
    role: 'assistant',
    model,
    content: blocks,
    stop_reason: blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: {input_tokens: 1, output_tokens: 1},
  }
}

function event(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({type, ...data})}\n\n`
}

/** The full server-sent-event stream of one assistant message. */
export function sseEvents(id: string, model: string, blocks: ReplyBlock[]): string {
  const message = messageJson(id, model, blocks)
  let out = event('message_start', {
    message: {...message, content: [], stop_reason: null, stop_sequence: null},
  })
  blocks.forEach((b, index) => {
    if (b.type === 'text') {
      out += event('content_block_start', {index, content_block: {type: 'text', text: ''}})
      out += event('content_block_delta', {index, delta: {type: 'text_delta', text: b.text}})
    } else {
      out += event('content_block_start', {
        index,
        content_block: {type: 'tool_use', id: b.id, name: b.name, input: {}},
      })
      out += event('content_block_delta', {
        index,
        delta: {type: 'input_json_delta', partial_json: JSON.stringify(b.input)},
      })
    }
    out += event('content_block_stop', {index})
  })
  out += event('message_delta', {
    delta: {stop_reason: message.stop_reason, stop_sequence: null},
    usage: {output_tokens: 1},
  })
  out += event('message_stop', {})
  return out
}
