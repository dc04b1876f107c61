/**
 * The completion gate of an autonomous task (docs/protocol.md "Completion gate"): at the end of
 * each run Claude Code is asked to write
 *
 *   <COMPLETION_GATE>
 *   {"ready": true|false, "reason": "...", "blockers": ["..."]}
 *   </COMPLETION_GATE>
 *
 * The LAST such block in a run's assistant text decides. Pure: no I/O.
 */

export const GATE_OPEN = '<COMPLETION_GATE>'
export const GATE_CLOSE = '</COMPLETION_GATE>'

export type GateReading =
  /** no block at all in the text */
  | {kind: 'none'}
  /** a block that could not be read; `problem` says why in words a person can act on */
  | {kind: 'malformed'; problem: string; raw: string}
  | {kind: 'gate'; ready: boolean; reason: string; blockers: string[]}

const OPEN_RE = /<COMPLETION_GATE>/gi
const CLOSE_RE = /<\/COMPLETION_GATE>/i
const MAX_RAW = 300

/** The last completion gate block in `text`, read and checked. */
export function parseLastGate(text: string): GateReading {
  let lastOpen = -1
  for (const m of text.matchAll(OPEN_RE)) lastOpen = m.index
  if (lastOpen === -1) {
    // A closing tag alone is a block whose opening tag was lost or misspelt: report it.
    const close = CLOSE_RE.exec(text)
    if (close) return {kind: 'malformed', problem: `the COMPLETION_GATE block has a closing tag but no ${GATE_OPEN} before it`, raw: clip(text.slice(Math.max(0, close.index - MAX_RAW), close.index))}
    return {kind: 'none'}
  }
  const rest = text.slice(lastOpen + GATE_OPEN.length)
  const close = CLOSE_RE.exec(rest)
  if (!close) return {kind: 'malformed', problem: `the COMPLETION_GATE block is not closed with ${GATE_CLOSE}`, raw: clip(rest)}
  return readGateBody(rest.slice(0, close.index))
}

/** The JSON between the tags: an object with a boolean `ready`, optional string `reason`, optional string array `blockers`. */
export function readGateBody(body: string): GateReading {
  const raw = stripFence(body.trim())
  if (raw === '') return {kind: 'malformed', problem: 'the COMPLETION_GATE block is empty', raw}
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch (error) {
    return {kind: 'malformed', problem: `the COMPLETION_GATE block is not valid JSON: ${(error as Error).message}`, raw: clip(raw)}
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {kind: 'malformed', problem: 'the COMPLETION_GATE block is not a JSON object', raw: clip(raw)}
  }
  const gate = value as Record<string, unknown>
  if (!('ready' in gate)) return {kind: 'malformed', problem: 'the COMPLETION_GATE block has no "ready" field', raw: clip(raw)}
  if (typeof gate.ready !== 'boolean') {
    return {kind: 'malformed', problem: `"ready" in the COMPLETION_GATE block must be true or false, not ${JSON.stringify(gate.ready)}`, raw: clip(raw)}
  }
  if (gate.reason !== undefined && gate.reason !== null && typeof gate.reason !== 'string') {
    return {kind: 'malformed', problem: '"reason" in the COMPLETION_GATE block must be a string', raw: clip(raw)}
  }
  let blockers: string[] = []
  if (gate.blockers !== undefined && gate.blockers !== null) {
    if (!Array.isArray(gate.blockers) || gate.blockers.some((b) => typeof b !== 'string')) {
      return {kind: 'malformed', problem: '"blockers" in the COMPLETION_GATE block must be an array of strings', raw: clip(raw)}
    }
    blockers = (gate.blockers as string[]).map((b) => b.trim()).filter((b) => b !== '')
  }
  return {kind: 'gate', ready: gate.ready, reason: typeof gate.reason === 'string' ? gate.reason.trim() : '', blockers}
}

/** A blocker as compared between runs: case, spacing and trailing punctuation do not matter. */
export function blockerKey(blocker: string): string {
  return blocker
    .toLowerCase()
    .replace(/\s+/g, ' ')
    .replace(/[.!;:,\s]+$/, '')
    .trim()
}

/** ```json ... ``` around the object (models like to add one). */
function stripFence(text: string): string {
  const m = /^```[a-zA-Z]*\s*\n?([\s\S]*?)\n?\s*```$/.exec(text)
  return m ? m[1].trim() : text
}

function clip(text: string): string {
  const t = text.trim()
  return t.length > MAX_RAW ? `${t.slice(0, MAX_RAW - 1)}…` : t
}
