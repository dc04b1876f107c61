import {EventEmitter} from 'node:events'

import type WebSocket from 'ws'

import type {OutboxMessage, OutboxStore} from '../store/outbox-store.js'
import {Liveness} from './liveness.js'

export type ConnectionState = 'idle' | 'connecting' | 'authenticating' | 'connected' | 'waiting' | 'stopped'

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
const ACK_DELAY_MS = 10

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
 * server frame other than authenticated/ack) and 'state'.
 */
export class DaemonConnection extends EventEmitter {
  private ws?: WebSocket
  private stateValue: ConnectionState = 'idle'
  private attempt = 0
  private authFailed = false
  private sentUpTo = 0
  private timers = new Set<NodeJS.Timeout>()
  /** ping/pong, the authenticate timeout and heartbeats of the current socket (liveness.ts) */
  private liveness?: Liveness
  private stopped = false

  constructor(private readonly options: ConnectionOptions) {
    super()
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
      ws = new WebSocketClass(url, {maxPayload: MAX_FRAME_BYTES, handshakeTimeout: 10_000})
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
      this.onFrame(data.toString())
    })
    ws.on('error', (error) => this.options.log('warn', `connection error: ${error.message}`, {url}))
    ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString()))
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
      this.sentUpTo = 0
      this.setState('connected')
      this.options.log('info', 'connected and authenticated', {daemonId: parsed!.daemonId})
      this.liveness?.startHeartbeat()
      this.pump()
      this.emit('authenticated')
      return
    }
    if (type === 'error' && this.stateValue === 'authenticating') {
      this.authFailed = parsed!.code === 'AUTH_FAILED'
      this.options.log('error', `the server refused authentication: ${String(parsed!.message ?? parsed!.code)}`)
      this.ws?.close()
      return
    }
    if (this.stateValue !== 'connected') return // nothing but authenticate before authenticated
    if (type === 'ack' && typeof parsed!.seq === 'number') {
      // the server cannot have stored what this connection has not sent: an ack past it would
      // drop messages still waiting in the outbox
      this.noteAck(Math.min(parsed!.seq, this.sentUpTo))
      return
    }
    this.emit('frame', text)
  }

  private ackUpTo = 0
  private ackTimer?: NodeJS.Timeout

  /**
   * Acks are applied at most every ACK_DELAY_MS with the highest seq seen (an ack covers every
   * seq before it): a server that acks each message costs one outbox write per interval.
   */
  private noteAck(seq: number): void {
    if (seq <= this.ackUpTo) return
    this.ackUpTo = seq
    this.ackTimer ??= setTimeout(() => this.applyAcks(), ACK_DELAY_MS)
  }

  /** Write the pending ack to the outbox now. */
  applyAcks(): void {
    if (this.ackTimer) clearTimeout(this.ackTimer)
    this.ackTimer = undefined
    const seq = this.ackUpTo
    if (seq <= 0) return
    try {
      this.options.outbox.ack(seq)
    } catch (error) {
      this.options.log('error', `recording the server's ack of seq ${seq} failed: ${(error as Error).message}`)
    }
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
      const batch = this.options.outbox.pending(this.sentUpTo, 500)
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
    if (messages[0].seq === this.sentUpTo + 1 && ws.bufferedAmount <= MAX_BUFFERED_BYTES) this.sendBatch(ws, messages)
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
    this.sentUpTo = batch.at(-1)!.seq
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
    this.setState('waiting')
    this.options.log('warn', `disconnected (code ${code}${reason ? `: ${reason}` : ''}); reconnecting in ${jittered.toFixed(1)}s`)
    this.after(jittered * 1000, () => void this.connect())
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.clearTimers()
    this.applyAcks()
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
