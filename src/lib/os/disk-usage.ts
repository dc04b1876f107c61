import {lstatSync, readdirSync} from 'node:fs'
import path from 'node:path'

/**
 * Bytes a directory takes on disk, as `du` counts them (allocated blocks, links not followed,
 * each inode once), or null when it does not exist. A worktree's `.git` is a file pointing at the
 * repository's shared object store, which is not counted: this is what removing the worktree frees.
 */
export function diskUsage(dir: string): number | null {
  let root
  try {
    root = lstatSync(dir)
  } catch {
    return null
  }
  const seen = new Set<string>()
  let bytes = 0
  const add = (st: {blocks: number; size: number; ino: number; dev: number; nlink: number}) => {
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`
      if (seen.has(key)) return
      seen.add(key)
    }
    bytes += st.blocks > 0 ? st.blocks * 512 : st.size
  }
  add(root)
  if (!root.isDirectory()) return bytes
  const stack = [dir]
  while (stack.length > 0) {
    const current = stack.pop()!
    let entries
    try {
      entries = readdirSync(current, {withFileTypes: true})
    } catch {
      continue // gone or unreadable meanwhile
    }
    for (const entry of entries) {
      const file = path.join(current, entry.name)
      try {
        add(lstatSync(file))
      } catch {
        continue
      }
      if (entry.isDirectory()) stack.push(file)
    }
  }
  return bytes
}

/** 1536 -> "1.5 KiB" */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit += 1
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`
}
