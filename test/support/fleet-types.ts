// What the fleet server (fleet-server.ts) keeps and offers: tasks, their moves and patches, daemons.
export interface FleetAssignment {
  daemonId: string
  at: number
  /** the patch it was sent with (undefined: the original spawnTask) */
  patch?: FleetPatch
  /** when the daemon reported the task running (taskStatusChange to running) */
  runningAt?: number
}

export interface FleetPatch {
  patchData: string
  patchBaseSha: string
  /** the daemon it came from, its seq, and when it arrived */
  daemonId: string
  seq: number
  at: number
}

export interface FleetTask {
  id: string
  /** the spawnTask as submitted */
  spawn: Record<string, any>
  state: 'queued' | 'assigned' | 'completed' | 'failed'
  /** daemonId the task is on now (assigned), or was on last */
  daemonId?: string
  assignments: FleetAssignment[]
  lastPatch?: FleetPatch
  /** why it moved each time ("connection of <id> dropped", "drained on <id>", ...) */
  moves: {at: number; from: string; why: string}[]
  error?: string
  /** commandErrors the daemons answered its spawnTask with */
  refusals: any[]
  /** every taskStatusChange of the task, with the daemon it came from */
  statuses: {daemonId: string; from: string; to: string; at: number}[]
}

export interface FleetDaemon {
  daemonId: string
  hostname: string
  maxConcurrentTasks: number
  connected: boolean
  /** refused a spawnTask as draining: nothing more is sent to it */
  draining: boolean
  /** every authenticate this daemonId sent */
  authentications: any[]
  /** unique seqs received (first copy of each) */
  seqs: number[]
  /** every message with a seq, first copy of each, in arrival order */
  messages: any[]
  /** duplicates dropped */
  duplicates: number
  /** when the server noticed each drop of its connection (not counting the server's own close) */
  drops: number[]
}

export interface FleetServerOptions {
  /** conversationHistory to send with a moved task (none when it returns undefined) */
  history?: (task: FleetTask) => unknown
}

export interface FleetServer {
  readonly port: number
  /** ws://127.0.0.1:<port> (the daemon appends /ws/daemon) */
  readonly url: string
  readonly tasks: Map<string, FleetTask>
  readonly daemons: Map<string, FleetDaemon>
  /** frames that were not JSON (a daemon must never send one) */
  readonly badFrames: string[]
  /** what the server did, in order, for failure messages */
  readonly log: string[]
  /** queue a task (a spawnTask without `type`; taskId, taskName and plan at least) and dispatch */
  submit(spawn: Record<string, unknown>): FleetTask
  /** resolves once `predicate` holds (checked at every change and every 200 ms); throws with the task table on timeout */
  until<T>(predicate: () => T, timeoutMs?: number, description?: string): Promise<NonNullable<T>>
  /** the task table, one line a task, for messages */
  describe(): string
  /** the daemonId each task id was last on */
  taskDaemon(taskId: string): string | undefined
  /** drops every connection and stops listening (the server is down: nothing moves) */
  close(): Promise<void>
  /** listens again on the same port, state kept */
  restart(): Promise<void>
}

/** A daemon the server has just heard of (its first authenticate). */
export function newDaemon(daemonId: string, auth: {hostname: string; maxConcurrentTasks: number}): FleetDaemon {
  return {daemonId, hostname: auth.hostname, maxConcurrentTasks: auth.maxConcurrentTasks, connected: false, draining: false, authentications: [], seqs: [], messages: [], duplicates: 0, drops: []}
}

/** Resolves with the first truthy value of `predicate`, checked now and on every notify (`waiters`). */
export function waitUntil<T>(waiters: Set<() => void>, predicate: () => T, timeoutMs: number, failure: () => string): Promise<NonNullable<T>> {
  return new Promise((resolve, reject) => {
    const check = () => {
      let value: T | undefined
      try {
        value = predicate()
      } catch {
        value = undefined
      }
      if (value) {
        waiters.delete(check)
        clearTimeout(timer)
        resolve(value as NonNullable<T>)
      }
    }
    const timer = setTimeout(() => {
      waiters.delete(check)
      reject(new Error(failure()))
    }, timeoutMs)
    waiters.add(check)
    check()
  })
}

export const short = (id: string | undefined) => (id ? id.slice(0, 8) : '-')

/** Tasks the server has given a daemon and not seen end (its count of the daemon's load). */
export function loadOf(tasks: Map<string, FleetTask>, daemonId: string): number {
  return [...tasks.values()].filter((t) => t.state === 'assigned' && t.daemonId === daemonId).length
}

/** Every daemon and task in a line each, for a failure message. */
export function describeFleet(daemons: Map<string, FleetDaemon>, tasks: Map<string, FleetTask>): string {
  const ds = [...daemons.values()].map(
    (d) => `daemon ${short(d.daemonId)}: ${d.connected ? 'connected' : 'gone'}${d.draining ? ', draining' : ''}, load ${loadOf(tasks, d.daemonId)}/${d.maxConcurrentTasks}, ${d.seqs.length} seqs`,
  )
  const ts = [...tasks.values()].map(
    (t) =>
      `task ${short(t.id)} ${t.state}${t.daemonId ? ` on ${short(t.daemonId)}` : ''}: ${t.assignments.map((a) => short(a.daemonId)).join(' -> ')}; last status ${t.statuses.at(-1)?.to ?? '-'}${t.error ? `; ${t.error}` : ''}`,
  )
  return [...ds, ...ts].join('\n')
}
