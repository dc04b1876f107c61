/** Queued output lines, column by column. */
export interface OutputBatch {
  taskIds: string[]
  streams: string[]
  lines: string[]
  ts: number[]
}

export function emptyBatch(): OutputBatch {
  return {taskIds: [], streams: [], lines: [], ts: []}
}

/**
 * A batch as it crosses to the writer thread (output-writer.ts): the lines as one string and
 * their lengths, the task and stream as runs. Cloning one long string and a few small arrays
 * costs a fraction of cloning thousands of strings one by one (the hot path of a chatty claude).
 */
export interface PackedBatch {
  text: string
  lengths: Int32Array
  ts: Float64Array
  /** [taskId, stream, count] for each run of lines of one task and stream */
  runs: Array<[string, string, number]>
}

export function packBatch(batch: OutputBatch): PackedBatch {
  const n = batch.lines.length
  const lengths = new Int32Array(n)
  const runs: PackedBatch['runs'] = []
  let run: PackedBatch['runs'][number] | undefined
  for (let i = 0; i < n; i++) {
    lengths[i] = batch.lines[i].length
    if (run && run[0] === batch.taskIds[i] && run[1] === batch.streams[i]) run[2]++
    else runs.push((run = [batch.taskIds[i], batch.streams[i], 1]))
  }
  return {text: batch.lines.join(''), lengths, ts: Float64Array.from(batch.ts), runs}
}

export function unpackBatch(packed: PackedBatch): OutputBatch {
  const batch: OutputBatch = {taskIds: [], streams: [], lines: [], ts: Array.from(packed.ts)}
  let at = 0
  let i = 0
  for (const [taskId, stream, count] of packed.runs) {
    for (let k = 0; k < count; k++, i++) {
      batch.taskIds.push(taskId)
      batch.streams.push(stream)
      batch.lines.push(packed.text.slice(at, at + packed.lengths[i]))
      at += packed.lengths[i]
    }
  }
  return batch
}
