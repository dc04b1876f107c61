import type WebSocket from 'ws'

import type {ConnectionState} from './connection-state.js'
import type {Logger} from './logger.js'

export interface LivenessOptions {
  heartbeatIntervalSecs: number
  activeTaskIds: () => string[]
  log: Logger
  /** the connection's state while this socket is its socket; undefined once it has another (or none) */
  state: () => ConnectionState | undefined
}

/**
 * Is one socket of the daemon's connection still alive (protocol.md)? A server that accepts the
 * connection but never answers authenticate is as dead as one that stops answering pings: either
 * way the socket is terminated after two heartbeat intervals (the connection then reconnects).
 * Once authenticated: a ping and a heartbeat message every heartbeat interval. One per socket,
 * from its 'open'; stop() when the connection clears its timers.
 */
export class Liveness {
  private lastPong = Date.now()
  private readonly timers = new Set<NodeJS.Timeout>()

  constructor(
    private readonly ws: WebSocket,
    private readonly options: LivenessOptions,
  ) {
    ws.on('pong', () => (this.lastPong = Date.now()))
  }

  /** no pong (or no answer to authenticate) for this long: the connection is dead */
  private deadAfterMs(): number {
    return 2 * this.options.heartbeatIntervalSecs * 1000 + 1000
  }

  /** Terminate the socket when authenticate is not answered in time. */
  awaitAuthentication(): void {
    const t = setTimeout(() => {
      this.timers.delete(t)
      if (this.options.state() !== 'authenticating') return
      this.options.log('warn', `no answer to authenticate within ${(this.deadAfterMs() / 1000).toFixed(1)}s: reconnecting`)
      this.ws.terminate()
    }, this.deadAfterMs())
    this.timers.add(t)
  }

  /** Authenticated: ping and heartbeat every interval; no pong for two intervals terminates the socket. */
  startHeartbeat(): void {
    const t = setInterval(() => {
      if (this.options.state() !== 'connected') return
      if (Date.now() - this.lastPong > this.deadAfterMs()) {
        this.options.log('warn', 'no pong for two heartbeat intervals: reconnecting')
        this.ws.terminate()
        return
      }
      this.ws.ping()
      this.ws.send(JSON.stringify({type: 'heartbeat', timestamp: new Date().toISOString(), activeTaskIds: this.options.activeTaskIds()}))
    }, this.options.heartbeatIntervalSecs * 1000)
    this.timers.add(t)
  }

  stop(): void {
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }
}
