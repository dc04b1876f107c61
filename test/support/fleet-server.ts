// A makima server for a fleet of daemons (issue 11, docs/fleet.md): a real `ws` server on
// 127.0.0.1 (port 0, the same port after restart()), path /ws/daemon, speaking docs/protocol.md to
// any number of daemons. Each task goes to the least-busy connected daemon with a free slot (never
// back to one that had it while another can take it); the last checkpoint patch of each task is
// kept; a dropped connection, a drained task or a recovery report sends the task again elsewhere
// with that patch (resumeSession: true), or as first sent; a spawnTask refused as draining or full
// goes back to the queue; seqs are acked, duplicates dropped, each daemon's seqs kept for a gap
// check. While the server is down (close() until restart()) no task moves; its state outlives a
// restart, as a real server's database.
import {randomUUID} from 'node:crypto'
import type {Server} from 'node:http'
import type {Socket} from 'node:net'

import type {WebSocket, WebSocketServer} from 'ws'

import {listenForDaemons} from './daemon-endpoint.js'

export type {FleetAssignment, FleetDaemon, FleetPatch, FleetServer, FleetServerOptions, FleetTask} from './fleet-types.js'
import {describeFleet, loadOf, newDaemon, short, waitUntil, type FleetDaemon, type FleetServer, type FleetServerOptions, type FleetTask} from './fleet-types.js'

const live = new Set<FleetServer>()

export async function closeAllFleetServers(): Promise<void> {
  await Promise.all([...live].map((s) => s.close()))
  live.clear()
}

export async function startFleetServer(options: FleetServerOptions = {}): Promise<FleetServer> {
  const tasks = new Map<string, FleetTask>()
  const daemons = new Map<string, FleetDaemon>()
  const sockets = new Map<string, WebSocket>()
  const badFrames: string[] = []
  const log: string[] = []
  const waiters = new Set<() => void>()
  const queue: string[] = []
  let port = 0
  let http: Server | undefined
  let wss: WebSocketServer | undefined
  let tcp = new Set<Socket>()
  let down = false
  const started = Date.now()
  const note = (text: string) => log.push(`+${((Date.now() - started) / 1000).toFixed(2)}s ${text}`)
  const notify = () => [...waiters].forEach((w) => w())
  const load = (daemonId: string) => loadOf(tasks, daemonId)
  const send = (daemonId: string, message: object): boolean => {
    const ws = sockets.get(daemonId)
    if (!ws || ws.readyState !== ws.OPEN) return false
    ws.send(JSON.stringify(message))
    return true
  }

  /** Each queued task, in order, to the least-busy daemon that can take it. */
  const dispatch = () => {
    if (down) return
    for (const taskId of [...queue]) {
      const task = tasks.get(taskId)!
      const had = new Set(task.assignments.map((a) => a.daemonId))
      const open = [...daemons.values()].filter((d) => d.connected && !d.draining && sockets.has(d.daemonId) && load(d.daemonId) < d.maxConcurrentTasks)
      const fresh = open.filter((d) => !had.has(d.daemonId))
      const candidates = fresh.length > 0 ? fresh : []
      if (candidates.length === 0) continue
      const target = candidates.sort((a, b) => load(a.daemonId) - load(b.daemonId))[0]
      const patch = task.lastPatch
      const history = task.assignments.length > 0 ? options.history?.(task) : undefined
      const command = {
        type: 'spawnTask',
        ...task.spawn,
        ...(patch ? {patchData: patch.patchData, patchBaseSha: patch.patchBaseSha, resumeSession: true} : {}),
        ...(history !== undefined ? {conversationHistory: history} : {}),
      }
      if (!send(target.daemonId, command)) continue
      queue.splice(queue.indexOf(taskId), 1)
      task.state = 'assigned'
      task.daemonId = target.daemonId
      task.assignments.push({daemonId: target.daemonId, at: Date.now(), patch})
      note(`task ${short(taskId)} -> ${short(target.daemonId)}${patch ? ` with the patch of seq ${patch.seq} from ${short(patch.daemonId)}` : ''}${history !== undefined ? ' and a history' : ''}`)
    }
  }

  const requeue = (task: FleetTask, why: string) => {
    if (task.state !== 'assigned') return
    task.moves.push({at: Date.now(), from: task.daemonId!, why})
    task.state = 'queued'
    queue.push(task.id)
    note(`task ${short(task.id)} moves: ${why}`)
  }

  const onMessage = (daemon: FleetDaemon, ws: WebSocket, msg: any) => {
    if (typeof msg.seq === 'number') {
      ws.send(JSON.stringify({type: 'ack', seq: msg.seq}))
      if (daemon.seqs.includes(msg.seq)) {
        daemon.duplicates += 1
        return
      }
      daemon.seqs.push(msg.seq)
      daemon.messages.push({...msg, receivedAt: Date.now()})
    }
    const task = typeof msg.taskId === 'string' ? tasks.get(msg.taskId) : undefined
    // only the daemon that has the task now speaks for it (a late message of an old one is kept, not acted on)
    const current = task !== undefined && task.daemonId === daemon.daemonId
    switch (msg.type) {
      case 'checkpointCreated':
        if (current && msg.success && typeof msg.patchData === 'string' && typeof msg.patchBaseSha === 'string') {
          task.lastPatch = {patchData: msg.patchData, patchBaseSha: msg.patchBaseSha, daemonId: daemon.daemonId, seq: msg.seq, at: Date.now()}
        }
        return
      case 'taskStatusChange':
        if (!task) return
        task.statuses.push({daemonId: daemon.daemonId, from: msg.oldStatus, to: msg.newStatus, at: Date.now()})
        if (current && msg.newStatus === 'running') {
          const assignment = task.assignments.at(-1)!
          assignment.runningAt ??= Date.now()
        }
        return
      case 'taskComplete':
        if (!current || task.state !== 'assigned') return
        if (msg.success) {
          task.state = 'completed'
          note(`task ${short(task.id)} completed on ${short(daemon.daemonId)}`)
        } else if (typeof msg.error === 'string' && msg.error.startsWith('drained:')) {
          daemon.draining = true
          requeue(task, `drained on ${short(daemon.daemonId)}`)
        } else {
          task.state = 'failed'
          task.error = msg.error
          note(`task ${short(task.id)} failed on ${short(daemon.daemonId)}: ${msg.error}`)
        }
        return
      case 'taskRecoveryDetected':
        if (current) requeue(task, `recovered (interrupted) by a restart of ${short(daemon.daemonId)}`)
        return
      case 'commandError':
        if (msg.commandType !== 'spawnTask' || !current) return
        task.refusals.push(msg)
        if (msg.code === 'INVALID_STATE' && /draining/.test(msg.message)) {
          daemon.draining = true
          requeue(task, `refused by ${short(daemon.daemonId)} (draining)`)
        } else if (msg.code === 'CONCURRENCY_LIMIT') {
          requeue(task, `refused by ${short(daemon.daemonId)} (full)`)
        } else if (task.state === 'assigned') {
          task.state = 'failed'
          task.error = `${msg.code}: ${msg.message}`
          note(`task ${short(task.id)} refused by ${short(daemon.daemonId)}: ${task.error}`)
        }
        return
    }
  }

  const onConnection = (ws: WebSocket) => {
    let daemon: FleetDaemon | undefined
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
      if (msg?.type === 'authenticate') {
        const daemonId = typeof msg.daemonId === 'string' ? msg.daemonId : randomUUID()
        daemon = daemons.get(daemonId)
        if (!daemon) {
          daemon = newDaemon(daemonId, msg)
          daemons.set(daemonId, daemon)
        }
        daemon.authentications.push(msg)
        daemon.maxConcurrentTasks = msg.maxConcurrentTasks
        daemon.connected = true
        daemon.draining = false // a new process on this volume
        sockets.get(daemonId)?.terminate()
        sockets.set(daemonId, ws)
        ws.send(JSON.stringify({type: 'authenticated', daemonId}))
        note(`daemon ${short(daemonId)} authenticated (${msg.activeTaskIds?.length ?? 0} active, lastAckedSeq ${msg.lastAckedSeq})`)
      } else if (daemon) {
        onMessage(daemon, ws, msg)
      }
      dispatch()
      notify()
    })
    ws.on('close', () => {
      if (daemon && sockets.get(daemon.daemonId) === ws) {
        sockets.delete(daemon.daemonId)
        daemon.connected = false
        if (!down) {
          daemon.drops.push(Date.now())
          note(`connection of ${short(daemon.daemonId)} dropped`)
          for (const task of tasks.values()) if (task.state === 'assigned' && task.daemonId === daemon.daemonId) requeue(task, `connection of ${short(daemon.daemonId)} dropped`)
          dispatch()
        }
      }
      notify()
    })
    ws.on('error', () => {})
  }

  const listen = async (onPort: number) => {
    const endpoint = await listenForDaemons(onPort, (ws) => onConnection(ws))
    ;({http, wss, sockets: tcp, port} = endpoint)
  }

  // Tasks wait in the queue for a slot: look again now and then, not only on events.
  let ticker: NodeJS.Timeout | undefined
  const tick = (on: boolean) => {
    clearInterval(ticker)
    ticker = on
      ? setInterval(() => {
          dispatch()
          notify()
        }, 200)
      : undefined
  }
  await listen(0)
  tick(true)

  const server: FleetServer = {
    get port() {
      return port
    },
    get url() {
      return `ws://127.0.0.1:${port}`
    },
    tasks,
    daemons,
    badFrames,
    log,
    submit(spawn) {
      const task: FleetTask = {id: spawn.taskId as string, spawn, state: 'queued', assignments: [], moves: [], refusals: [], statuses: []}
      tasks.set(task.id, task)
      queue.push(task.id)
      dispatch()
      return task
    },
    until: (predicate, timeoutMs = 30_000, description) =>
      waitUntil(
        waiters,
        predicate,
        timeoutMs,
        () => `fleet server: not ${description ?? predicate.toString().slice(0, 200)} within ${timeoutMs} ms\n${server.describe()}\n${log.slice(-30).join('\n')}`,
      ),
    describe: () => describeFleet(daemons, tasks),
    taskDaemon: (taskId) => tasks.get(taskId)?.daemonId,
    async close() {
      live.delete(server)
      down = true
      tick(false)
      const h = http
      const w = wss
      http = undefined
      wss = undefined
      if (!h || !w) return
      for (const client of w.clients) client.terminate()
      for (const s of tcp) s.destroy()
      w.close()
      await new Promise<void>((resolve) => h.close(() => resolve()))
      sockets.clear()
      for (const d of daemons.values()) d.connected = false
      notify()
    },
    async restart() {
      if (http) await server.close()
      for (let attempt = 0; ; attempt++) {
        try {
          await listen(port)
          break
        } catch (error) {
          if (attempt >= 20) throw error
          await new Promise((resolve) => setTimeout(resolve, 50))
        }
      }
      down = false
      live.add(server)
      tick(true)
      dispatch()
    },
  }
  live.add(server)
  return server
}
