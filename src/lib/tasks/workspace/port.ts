import {createServer} from 'node:net'

/** A TCP port free on 127.0.0.1 now: bound to port 0, read, closed. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port was assigned'))))
    })
  })
}

/**
 * The port reserved for a task (MAKIMA_TASK_PORT): free on this machine now and not the port of
 * another active task (`taken`), so parallel tasks' dev servers do not collide.
 */
export async function reserveTaskPort(taken: ReadonlySet<number>): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort()
    if (!taken.has(port)) return port
  }
  throw new Error('no free TCP port that no other task holds was found after 50 tries')
}
