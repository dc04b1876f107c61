// A fake makima server for daemon tests: a real `ws` WebSocketServer on 127.0.0.1 (port 0 at
// first, the same port after restart()), path /ws/daemon, speaking docs/protocol.md. The test
// scripts it: authentication succeeds (`authenticated {daemonId}`) or fails (`error AUTH_FAILED`),
// every frame received is recorded, seqs are acked automatically, never, or by hand, and commands
// go to the authenticated daemon with send().
import {randomUUID} from 'node:crypto'
import type {Server} from 'node:http'
import type {Socket} from 'node:net'

import type {WebSocket, WebSocketServer} from 'ws'

import {listenForDaemons} from './daemon-endpoint.js'

export {DAEMON_PATH} from './daemon-endpoint.js'

/** on: ack each seq as it arrives; off: never ack; manual: only ack(seq) from the test. */
export type AckMode = 'on' | 'off' | 'manual'

export interface ReceivedMessage {
  /** the parsed frame (any daemon -> server message) */
  msg: any
  /** the frame's text as received */
  raw: string
  /** 1-based number of the connection it came on (counts every accepted connection) */
  connection: number
  at: number
}

export interface FakeServerOptions {
  ack?: AckMode
  /** answer authenticate with error AUTH_FAILED (default false) */
  authFail?: boolean
  /** never answer authenticate (default false) */
  authSilent?: boolean
  /** daemonId given in `authenticated` (default a fresh UUID) */
  daemonId?: string
}

export interface FakeServer {
  readonly port: number
  /** ws://127.0.0.1:<port> (the daemon appends /ws/daemon) */
  readonly url: string
  readonly daemonId: string
  /** every frame received on every connection, in arrival order */
  readonly messages: ReceivedMessage[]
  /** every frame that was not valid JSON (the daemon must never send one) */
  readonly badFrames: string[]
  /** request paths of every accepted connection */
  readonly paths: string[]
  /** close code of every connection that closed, in order */
  readonly closeCodes: number[]
  ack: AckMode
  authFail: boolean
  authSilent: boolean
  /** true while a daemon is connected and authenticated */
  readonly authenticated: boolean
  /** number of connections accepted so far */
  readonly connections: number
  messagesOfType(type: string): any[]
  /** messages carrying a seq, first copy of each seq only (the server drops duplicates) */
  uniqueSeqMessages(): any[]
  /** resolves with the first recorded message (from index `fromIndex` of `messages`, past or future) matching `predicate` */
  waitForMessage(predicate: (msg: any) => boolean, timeoutMs?: number, description?: string, fromIndex?: number): Promise<any>
  /** sends a command (object as JSON, string as is, Buffer as a binary frame) to the authenticated daemon */
  send(command: object | string | Buffer): void
  /** sends bytes as a TEXT frame, as they are (invalid UTF-8 included) */
  sendTextBytes(bytes: Buffer): void
  /**
   * Stops reading from the daemon's connection (its socket is paused): no frame is processed and
   * no ping is answered, as with a server that hangs or a half-open TCP connection.
   */
  freeze(): void
  /** acknowledges every message up to seq */
  ackUpTo(seq: number): void
  /** the highest seq acked so far (0 when none) */
  readonly ackedSeq: number
  /** drops every connection (no close handshake) and stops listening */
  close(): Promise<void>
  /** listens again on the same port */
  restart(): Promise<void>
}

const live = new Set<FakeServer>()

/** Closes every fake server still listening (afterAll / afterEach). */
export async function closeAllFakeServers(): Promise<void> {
  await Promise.all([...live].map((s) => s.close()))
  live.clear()
}

export async function startFakeServer(options: FakeServerOptions = {}): Promise<FakeServer> {
  const messages: ReceivedMessage[] = []
  const badFrames: string[] = []
  const paths: string[] = []
  const closeCodes: number[] = []
  const waiters = new Set<() => void>()
  const daemonId = options.daemonId ?? randomUUID()
  let port = 0
  let http: Server | undefined
  let wss: WebSocketServer | undefined
  let sockets = new Set<Socket>()
  let current: WebSocket | undefined
  let authed = false
  let connections = 0
  let ackedSeq = 0

  const notify = () => [...waiters].forEach((w) => w())

  const sendAck = (ws: WebSocket, seq: number) => {
    if (seq > ackedSeq) ackedSeq = seq
    ws.send(JSON.stringify({type: 'ack', seq}))
  }

  const onConnection = (ws: WebSocket, path: string) => {
    connections += 1
    const connection = connections
    paths.push(path)
    ws.on('message', (data, isBinary) => {
      const raw = isBinary ? `<binary ${(data as Buffer).length} bytes>` : data.toString()
      let msg: any
      try {
        msg = JSON.parse(raw)
      } catch {
        badFrames.push(raw)
        notify()
        return
      }
      messages.push({msg, raw, connection, at: Date.now()})
      if (msg?.type === 'authenticate') {
        if (server.authSilent) {
          // say nothing
        } else if (server.authFail) {
          ws.send(JSON.stringify({type: 'error', code: 'AUTH_FAILED', message: 'invalid API key'}))
          ws.close(4001, 'authentication failed')
        } else {
          current = ws
          authed = true
          ws.send(JSON.stringify({type: 'authenticated', daemonId}))
        }
      } else if (typeof msg?.seq === 'number' && server.ack === 'on' && ws === current) {
        sendAck(ws, msg.seq)
      }
      notify()
    })
    ws.on('close', (code) => {
      closeCodes.push(code)
      if (ws === current) {
        current = undefined
        authed = false
      }
      notify()
    })
    ws.on('error', () => {})
  }

  const listen = async (onPort: number) => {
    const endpoint = await listenForDaemons(onPort, onConnection)
    ;({http, wss, sockets, port} = endpoint)
  }

  await listen(0)

  const server: FakeServer = {
    get port() {
      return port
    },
    get url() {
      return `ws://127.0.0.1:${port}`
    },
    daemonId,
    messages,
    badFrames,
    paths,
    closeCodes,
    ack: options.ack ?? 'on',
    authFail: options.authFail ?? false,
    authSilent: options.authSilent ?? false,
    get authenticated() {
      return authed
    },
    get connections() {
      return connections
    },
    get ackedSeq() {
      return ackedSeq
    },
    messagesOfType: (type) => messages.filter((m) => m.msg?.type === type).map((m) => m.msg),
    uniqueSeqMessages() {
      const seen = new Set<number>()
      return messages.map((m) => m.msg).filter((msg) => typeof msg?.seq === 'number' && !seen.has(msg.seq) && seen.add(msg.seq))
    },
    waitForMessage(predicate, timeoutMs = 20_000, description, fromIndex = 0) {
      return new Promise((resolve, reject) => {
        let index = fromIndex
        const check = () => {
          for (; index < messages.length; index++) {
            let hit = false
            try {
              hit = predicate(messages[index].msg)
            } catch {
              hit = false
            }
            if (hit) {
              done()
              resolve(messages[index].msg)
              return
            }
          }
        }
        const done = () => {
          waiters.delete(check)
          clearTimeout(timer)
        }
        const timer = setTimeout(() => {
          done()
          const tail = messages
            .slice(-15)
            .map((m) => m.raw.slice(0, 300))
            .join('\n')
          reject(new Error(`fake server: no message ${description ?? predicate.toString().slice(0, 200)} within ${timeoutMs} ms; last messages:\n${tail}`))
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    },
    send(command) {
      if (!current || !authed) throw new Error('fake server: no authenticated daemon to send to')
      if (Buffer.isBuffer(command)) current.send(command, {binary: true})
      else current.send(typeof command === 'string' ? command : JSON.stringify(command))
    },
    sendTextBytes(bytes) {
      if (!current || !authed) throw new Error('fake server: no authenticated daemon to send to')
      current.send(bytes, {binary: false})
    },
    freeze() {
      if (!current) throw new Error('fake server: no daemon connected')
      const socket = (current as unknown as {_socket: Socket})._socket
      socket.pause()
      current = undefined
      authed = false
    },
    ackUpTo(seq) {
      if (!current) throw new Error('fake server: no daemon connected')
      sendAck(current, seq)
    },
    async close() {
      live.delete(server)
      const h = http
      const w = wss
      http = undefined
      wss = undefined
      current = undefined
      authed = false
      if (!h || !w) return
      for (const client of w.clients) client.terminate()
      for (const s of sockets) s.destroy()
      w.close()
      await new Promise<void>((resolve) => h.close(() => resolve()))
      notify()
    },
    async restart() {
      if (http) await server.close()
      live.add(server)
      // the port was just freed; retry briefly in case the kernel still holds it
      for (let attempt = 0; ; attempt++) {
        try {
          await listen(port)
          return
        } catch (error) {
          if (attempt >= 20) throw error
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
    },
  }
  live.add(server)
  return server
}
