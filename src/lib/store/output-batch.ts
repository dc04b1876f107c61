/**
 * Queued output lines, column by column: arrays of strings cross to the writer thread
 * (output-writer.ts) far faster than arrays of objects, and faster than one joined string.
 */
export interface OutputBatch {
  taskIds: string[]
  streams: string[]
  lines: string[]
  ts: number[]
}

export function emptyBatch(): OutputBatch {
  return {taskIds: [], streams: [], lines: [], ts: []}
}
