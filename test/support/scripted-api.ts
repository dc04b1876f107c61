// A scripted Anthropic Messages API on 127.0.0.1 (port 0) that the real `claude` CLI talks to
// through ANTHROPIC_BASE_URL. A script decides each reply; see scripted-api-protocol.ts for the
// request context and the wire format.
import {createServer, type IncomingMessage, type ServerResponse} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

import {buildContext, errorBody, messageJson, replyBlocks, sseEvents, type RecordedRequest, type Reply, type Script, type ScriptContext} from './scripted-api-protocol.js'

export type {RecordedRequest, Reply, ReplyBlock, Script, ScriptContext, ToolResult} from './scripted-api-protocol.js'
export {rateLimitHeaders, realUserText} from './scripted-api-protocol.js'

export interface ScriptedApi {
  /** Base URL for ANTHROPIC_BASE_URL, e.g. http://127.0.0.1:41234 */
  url: string
  port: number
  /** Every request received, in order (any method and path). */
  requests: RecordedRequest[]
  /** The context of every POST /v1/messages the script was asked about, in order. */
  calls: ScriptContext[]
  /** Errors thrown by the script (each was answered with a 400). */
  scriptErrors: Error[]
  /** Only the POST /v1/messages requests (not count_tokens and the like). */
  messageRequests(): RecordedRequest[]
  close(): Promise<void>
}

const open = new Set<ScriptedApi>()

/** Closes every scripted API still open (for afterEach/afterAll). */
export async function closeAllScriptedApis(): Promise<void> {
  await Promise.all([...open].map((api) => api.close()))
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function sendJson(res: ServerResponse, status: number, body: string, head = false, extra: Record<string, string> = {}): void {
  res.writeHead(status, {...extra, 'content-type': 'application/json', 'request-id': 'req_scripted'})
  res.end(head ? undefined : body)
}

export async function startScriptedApi(script: Script): Promise<ScriptedApi> {
  const requests: RecordedRequest[] = []
  const calls: ScriptContext[] = []
  const scriptErrors: Error[] = []
  const timers = new Set<NodeJS.Timeout>()
  const sockets = new Set<Socket>()
  let closed = false
  let messageSeq = 0

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t)
        resolve()
      }, ms)
      timers.add(t)
    })

  async function answer(res: ServerResponse, ctx: ScriptContext, reply: Reply, headers: Record<string, string> = {}): Promise<void> {
    if (closed || res.destroyed) return
    if ('hang' in reply) return // the response stays open until close() destroys the socket
    if ('headers' in reply) return answer(res, ctx, reply.then, {...headers, ...reply.headers})
    if ('delayMs' in reply) {
      await sleep(reply.delayMs)
      return answer(res, ctx, reply.then, headers)
    }
    if ('status' in reply) return sendJson(res, reply.status, errorBody(reply.status, reply.error), false, headers)
    const blocks = replyBlocks(reply)
    const id = `msg_scripted_${++messageSeq}`
    const model = typeof ctx.body?.model === 'string' ? ctx.body.model : 'claude-scripted'
    if (!ctx.stream) return sendJson(res, 200, JSON.stringify(messageJson(id, model, blocks)), false, headers)
    res.writeHead(200, {
      ...headers,
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      'request-id': `req_scripted_${messageSeq}`,
    })
    res.end(sseEvents(id, model, blocks))
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req)
    let body: any
    try {
      body = raw === '' ? undefined : JSON.parse(raw)
    } catch {
      body = undefined
    }
    const url = req.url ?? '/'
    const path = url.split('?')[0]
    const method = req.method ?? 'GET'
    const recorded: RecordedRequest = {method, url, headers: req.headers, body, at: Date.now()}
    requests.push(recorded)

    if (method === 'POST' && path === '/v1/messages') {
      const ctx = buildContext(body, recorded)
      calls.push(ctx)
      let reply: Reply
      try {
        reply = await script(ctx)
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error))
        scriptErrors.push(err)
        return sendJson(res, 400, errorBody(400, `scripted API: script threw: ${err.message}`))
      }
      return answer(res, ctx, reply)
    }
    if (method === 'POST' && path === '/v1/messages/count_tokens') return sendJson(res, 200, JSON.stringify({input_tokens: 1}))
    if (method === 'HEAD' || method === 'GET') return sendJson(res, 200, '{}', method === 'HEAD')
    return sendJson(res, 404, '{}')
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) sendJson(res, 500, errorBody(500, String(error)))
    })
  })
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port

  const api: ScriptedApi = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    calls,
    scriptErrors,
    messageRequests: () => requests.filter((r) => r.method === 'POST' && r.url.split('?')[0] === '/v1/messages'),
    close: () => {
      open.delete(api)
      if (closed) return Promise.resolve()
      closed = true
      for (const t of timers) clearTimeout(t)
      timers.clear()
      const done = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const s of sockets) s.destroy()
      return done
    },
  }
  open.add(api)
  return api
}

type Step = Reply | Script

function isTextReply(step: Step): step is {text: string} {
  return typeof step === 'object' && 'text' in step
}

function run(step: Step, ctx: ScriptContext): Reply | Promise<Reply> {
  return typeof step === 'function' ? step(ctx) : step
}

/**
 * Answers step[turn] of each conversation (turn = assistant messages already sent). Past the
 * end it repeats the last `{text}` step, or answers `{text: 'done'}` when there is none.
 */
export function steps(...list: Step[]): Script {
  const lastText = [...list].reverse().find(isTextReply) ?? {text: 'done'}
  return (ctx) => run(ctx.turn < list.length ? list[ctx.turn] : lastText, ctx)
}

/**
 * Dispatches on a substring of the prompt, so one server serves several conversations. Keys are
 * tried against lastUserText first (in insertion order), then against firstUserText; without a
 * match `fallback` answers (default: a text naming the unmatched prompt).
 */
export function byPrompt(map: Record<string, Step>, fallback?: Step): Script {
  const keys = Object.keys(map)
  return (ctx) => {
    const key = keys.find((k) => ctx.lastUserText.includes(k)) ?? keys.find((k) => ctx.firstUserText.includes(k))
    if (key !== undefined) return run(map[key], ctx)
    return run(fallback ?? {text: `scripted API: no script for prompt ${JSON.stringify(ctx.lastUserText)}`}, ctx)
  }
}
