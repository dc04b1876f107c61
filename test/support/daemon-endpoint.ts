// The WebSocket endpoint a test server listens on (fake-server.ts, fleet-server.ts): a plain HTTP
// server on 127.0.0.1 that upgrades /ws/daemon only (anything else is cut off) and tracks its TCP
// sockets, so a test can drop every connection at once (close) and listen again on the same port.
import {createServer, type Server} from 'node:http'
import type {AddressInfo, Socket} from 'node:net'

import {WebSocketServer, type WebSocket} from 'ws'

export const DAEMON_PATH = '/ws/daemon'

export interface DaemonEndpoint {
  http: Server
  wss: WebSocketServer
  /** the TCP sockets accepted (every connection, upgraded or not) */
  sockets: Set<Socket>
  port: number
}

/** Listen on `port` (0: any free one); `onConnection` gets each daemon's WebSocket. */
export async function listenForDaemons(port: number, onConnection: (ws: WebSocket, path: string) => void): Promise<DaemonEndpoint> {
  const sockets = new Set<Socket>()
  const http = createServer((_req, res) => {
    res.writeHead(426)
    res.end()
  })
  http.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  const wss = new WebSocketServer({noServer: true, maxPayload: 100 * 1024 * 1024})
  http.on('upgrade', (req, socket, head) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path !== DAEMON_PATH) {
      socket.destroy()
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, path))
  })
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(port, '127.0.0.1', () => resolve())
  })
  return {http, wss, sockets, port: (http.address() as AddressInfo).port}
}
