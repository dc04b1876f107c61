// The bulk of a Claude Code transcript: lines a run passes on without parsing them
// (stream-event.ts parses the rest).

/**
 * True for a line a run need not parse: an assistant or user message, or a repeated init, of the
 * session already known (Claude Code writes `type` first), and not one of Claude Code's
 * synthetic error messages. Such lines cannot start a session, end a turn or show an auth
 * failure (auth-failure.ts), and they are nearly all of a long transcript. Any other line, or
 * any doubt, means parse it.
 *
 * Hot path (once per line, hundreds of thousands a second): plain substring searches, and for
 * needles that do not start with `"`, which V8 finds several times faster in JSON text.
 */
export function isRoutineLine(line: string, sessionId: string | null): boolean {
  if (!sessionId) return false
  if (line.startsWith('{"type":"assistant",')) {
    if (line.includes('<synthetic>')) return false
  } else if (!line.startsWith('{"type":"user",') && !line.startsWith('{"type":"system","subtype":"init",')) {
    return false
  }
  return line.includes(sessionId)
}
