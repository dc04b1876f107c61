import {homedir} from 'node:os'
import path from 'node:path'

/** `~` and `~/...` as the user's home directory; any other path as it is. */
export function expandHome(p: string): string {
  if (p === '~') return homedir()
  if (p.startsWith('~/')) return path.join(homedir(), p.slice(2))
  return p
}
