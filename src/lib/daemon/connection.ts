import {EventEmitter} from 'node:events'

import type WebSocket from 'ws'

import type {OutboxMessage, OutboxStore} from '../store/outbox-store.js'
import {Acks} from './acks.js'
import {Liveness} from './liveness.js'

import type {ConnectionState} from './connection-state.js'

export type {ConnectionState} from './connection-state.js'

export interface ConnectionOptions {
  url: string
  apiKey: string
  hostname: string
  version: string
  maxConcurrentTasks: number
  heartbeatIntervalSecs: number
  reconnectIntervalSecs: number
  outbox: OutboxStore
  activeTaskIds: () => string[]
  getDaemonId: () => string | undefined
  setDaemonId: (id: string) => void
  log: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void
}

export const MAX_FRAME_BYTES = 64 * 1024 * 1024
/** Above this many bytes waiting in the socket the outbox waits (the server is slow to read). */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024
const MAX_BACKOFF_SECS = 60
const UTF8 = new TextDecoder('utf-8', {fatal: true})

/** The URL the daemon connects to: `/ws/daemon` appended when the path is empty or `/`. */
export function daemonUrl(serverUrl: string): string {
  const url = new URL(serverUrl)
  if (url.pathname === '' || url.pathname === '/') url.pathname = '/ws/daemon'
  return url.toString()
}

/**
 * The daemon's WebSocket session (protocol.md): authenticate first, then heartbeats and pings,
 * the outbox resent in seq order after every (re)connect and each new message after it, acks
 * applied to the outbox, reconnect with exponential backoff and jitter. Emits 'frame' (text of a
 * server frame other than authenticated/ack), 'invalidFrame' (message: a text frame that is not
 * UTF-8), 'invalidAck' (seq, highest seq sent: an ack of what was never sent) and 'state'.
 */
export class DaemonConnection extends EventEmitter {
  private ws?: WebSocket
  private stateValue: ConnectionState = 'idle'
  private attempt = 0
  private authFailed = false
  private readonly acks: Acks
  private timers = new Set<NodeJS.Timeout>()
  /** ping/pong, the authenticate timeout and heartbeats of the current socket (liveness.ts) */
  private liveness?: Liveness
  private stopped = false
  /** what /metrics and /readyz report about this session (metrics.ts, health-server.ts) */
  readonly stats = {connects: 0, messagesSent: 0, lastConnectedAt: null as number | null, authFailed: false, retryAt: null as number | null}

  constructor(private readonly options: ConnectionOptions) {
    super()
    this.acks = new Acks(options.outbox, options.log)
  }

  /** messages the server acknowledged while this process ran */
  get ackedCount(): number {
    return this.acks.ackedCount
  }

  get state(): ConnectionState {
    return this.stateValue
  }

  private setState(state: ConnectionState): void {
    if (state === this.stateValue) return
    this.stateValue = state
    this.emit('state', state)
  }

  start(): void {
    this.stopped = false
    void this.connect()
  }

  private async connect(): Promise<void> {
    if (this.stopped) return
    this.setState('connecting')
    const {default: WebSocketClass} = await import('ws')
    const url = daemonUrl(this.options.url)
    let ws: WebSocket
    try {
      // UTF-8 is checked here (onText), not by ws: ws closes the connection (1007) on a bad text
      // frame, and the daemon never disconnects on bad input (protocol.md "Bad input")
      ws = new WebSocketClass(url, {maxPayload: MAX_FRAME_BYTES, handshakeTimeout: 10_000, skipUTF8Validation: true})
    } catch (error) {
      // e.g. a URL ws refuses: never an unhandled rejection, try again later
      this.options.log('error', `cannot connect to ${url}: ${(error as Error).message}`)
      this.setState('waiting')
      this.after(MAX_BACKOFF_SECS * 1000, () => void this.connect())
      return
    }
    this.ws = ws
    ws.on('open', () => {
      this.setState('authenticating')
      this.liveness?.stop()
      this.liveness = new Liveness(ws, {...this.options, state: () => (this.ws === ws ? this.stateValue : undefined)})
      this.liveness.awaitAuthentication()
      ws.send(
        JSON.stringify({
          type: 'authenticate',
          apiKey: this.options.apiKey,
          daemonId: this.options.getDaemonId(),
          hostname: this.options.hostname,
          version: this.options.version,
          maxConcurrentTasks: this.options.maxConcurrentTasks,
          activeTaskIds: this.options.activeTaskIds(),
          lastAckedSeq: this.options.outbox.lastAckedSeq(),
        }),
      )
    })
    ws.on('message', (data, isBinary) => {
      if (isBinary) {
        this.options.log('warn', 'ignored a binary frame from the server')
        return
      }
      this.onText(data as Buffer | ArrayBuffer | Buffer[])
    })
    ws.on('error', (error) => this.options.log('warn', `connection error: ${error.message}`, {url}))
    ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString()))
  }

  /** A text frame's bytes: decoded as strict UTF-8, else answered INVALID_JSON ('invalidFrame'). */
  private onText(data: Buffer | ArrayBuffer | Buffer[]): void {
    const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer)
    let text: string
    try {
      text = UTF8.decode(bytes)
    } catch {
      if (this.stateValue !== 'connected') return
      this.options.log('warn', `a text frame of ${bytes.length} bytes from the server is not valid UTF-8`)
      this.emit('invalidFrame', `the frame is not valid UTF-8 text (${bytes.length} bytes): frames are JSON in UTF-8`)
      return
    }
    this.onFrame(text)
  }

  private onFrame(text: string): void {
    let type: string | undefined
    let parsed: Record<string, unknown> | undefined
    try {
      parsed = JSON.parse(text) as Record<string, unknown>
      type = typeof parsed?.type === 'string' ? parsed.type : undefined
    } catch {
      // the dispatcher answers INVALID_JSON
    }
    if (type === 'authenticated' && this.stateValue === 'authenticating') {
      if (typeof parsed!.daemonId === 'string') this.options.setDaemonId(parsed!.daemonId)
      this.attempt = 0
      this.authFailed = false
      this.stats.connects += 1
      this.stats.lastConnectedAt = Date.now()
      this.stats.authFailed = false
      this.acks.reconnected()
      this.setState('connected')
      this.options.log('info', 'connected and authenticated', {daemonId: parsed!.daemonId})
      this.liveness?.startHeartbeat()
      this.pump()
      this.emit('authenticated')
      return
    }
    if (type === 'error' && this.stateValue === 'authenticating') {
      this.authFailed = parsed!.code === 'AUTH_FAILED'
      this.stats.authFailed = this.authFailed
      this.options.log('error', `the server refused authentication: ${String(parsed!.message ?? parsed!.code)}`)
      this.ws?.close()
      return
    }
    if (this.stateValue !== 'connected') return // nothing but authenticate before authenticated
    if (type === 'ack' && Number.isSafeInteger(parsed!.seq) && (parsed!.seq as number) >= 0) {
      const seq = parsed!.seq as number
      const highestSent = this.acks.receive(seq)
      if (highestSent !== undefined) this.emit('invalidAck', seq, highestSent)
      return
    }
    // any other ack (a seq that is negative, fractional, not a number) is refused by the
    // dispatcher's validation like every command
    this.emit('frame', text)
  }

  /** Send every stored message after what this connection has sent, in seq order. */
  pump(): void {
    const ws = this.ws
    if (!ws || this.stateValue !== 'connected') return
    for (;;) {
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        this.after(20, () => this.pump())
        return
      }
      const batch = this.options.outbox.pending(this.acks.sentUpTo, 500)
      if (batch.length === 0) return
      this.sendBatch(ws, batch)
    }
  }

  /**
   * Messages just stored: sent as they are when they follow what this connection has sent (no
   * read back from the outbox), else the outbox is pumped from where the connection is.
   */
  offer(messages: readonly OutboxMessage[]): void {
    const ws = this.ws
    if (!ws || this.stateValue !== 'connected' || messages.length === 0) return
    if (messages[0].seq === this.acks.sentUpTo + 1 && ws.bufferedAmount <= MAX_BUFFERED_BYTES) this.sendBatch(ws, messages)
    else this.pump()
  }

  /** One write for the whole batch: the socket is corked while its frames are queued. */
  private sendBatch(ws: WebSocket, batch: readonly OutboxMessage[]): void {
    const socket = (ws as unknown as {_socket?: {cork?: () => void; uncork?: () => void}})._socket
    socket?.cork?.()
    try {
      for (const message of batch) ws.send(message.payload)
    } finally {
      socket?.uncork?.()
    }
    this.acks.sent(batch.at(-1)!.seq)
    this.stats.messagesSent += batch.length
  }

  /** Send a message that is not stored (heartbeat-like); dropped when not connected. */
  sendVolatile(message: Record<string, unknown>): boolean {
    if (!this.ws || this.stateValue !== 'connected') return false
    this.ws.send(JSON.stringify(message))
    return true
  }

  private onClose(ws: WebSocket, code: number, reason: string): void {
    if (ws !== this.ws) return
    this.clearTimers()
    this.ws = undefined
    if (this.stopped) {
      this.setState('stopped')
      return
    }
    const base = this.options.reconnectIntervalSecs
    const delaySecs = this.authFailed ? MAX_BACKOFF_SECS : Math.min(MAX_BACKOFF_SECS, base * 2 ** this.attempt)
    const jittered = delaySecs * (0.75 + Math.random() * 0.5)
    this.attempt += 1
    this.stats.retryAt = Date.now() + jittered * 1000
    this.setState('waiting')
    this.options.log('warn', `disconnected (code ${code}${reason ? `: ${reason}` : ''}); reconnecting in ${jittered.toFixed(1)}s`)
    this.after(jittered * 1000, () => void this.connect())
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.clearTimers()
    this.acks.apply()
    const ws = this.ws
    if (!ws) {
      this.setState('stopped')
      return
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate()
        resolve()
      }, 2000)
      ws.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
      ws.close(1000, 'daemon shutting down')
    })
    this.setState('stopped')
  }

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t)
      fn()
    }, ms)
    this.timers.add(t)
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    this.liveness?.stop()
    this.liveness = undefined
  }
}
