/**
 * `makima top` as text: the task table fitted to a terminal width, and the full-screen frame
 * (title, table with a selected row, status and key lines). Pure: returns strings, writes nothing.
 */
import {formatUsd} from '../tasks/limits/limits.js'
import {formatAge} from './format.js'
import type {TopRow} from './top-rows.js'

export const ESC = '\u001b'
export const TERM = {
  enterAltScreen: `${ESC}[?1049h`,
  leaveAltScreen: `${ESC}[?1049l`,
  hideCursor: `${ESC}[?25l`,
  showCursor: `${ESC}[?25h`,
  home: `${ESC}[H`,
  clearLine: `${ESC}[K`,
  clearBelow: `${ESC}[J`,
  inverse: `${ESC}[7m`,
  reset: `${ESC}[0m`,
} as const

const HEADER = ['ID', 'STATE', 'AGE', 'CPU', 'RSS', 'COST', 'TURNS', 'NAME', 'LAST OUTPUT'] as const
/** columns aligned right: CPU, RSS, COST, TURNS */
const NUMERIC = new Set([3, 4, 5, 6])
const NAME_MAX = 24
const GAP = '  '

/** "-" until measured, else "12.3%". */
export function formatCpu(percent: number | null): string {
  return percent === null ? '-' : `${percent.toFixed(1)}%`
}

/** "-" when unknown, else "512K", "9.8M", "245M", "1.2G". */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return '-'
  const units = ['B', 'K', 'M', 'G', 'T']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  const text = value < 10 && unit > 0 ? value.toFixed(1) : Math.round(value).toString()
  return `${text}${units[unit]}`
}

/* eslint-disable no-control-regex -- escape sequences and control characters are what this drops (a block: prettier may break the line) */
/** One line of printable text: control characters become spaces, whitespace runs collapse. */
export function oneLine(text: string): string {
  return text
    .replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, '')
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
}
/* eslint-enable no-control-regex */

/** Cut to `max` characters (code points), with "…" when cut. */
export function fit(text: string, max: number): string {
  const chars = Array.from(text)
  if (chars.length <= max) return text
  if (max <= 0) return ''
  return `${chars.slice(0, max - 1).join('')}…`
}

function cells(row: TopRow, now: number): string[] {
  const measured = row.processes > 0
  return [
    row.shortId,
    row.state,
    formatAge(row.createdAt, now),
    measured ? formatCpu(row.cpuPercent) : '-',
    measured ? formatBytes(row.rssBytes) : '-',
    row.costUsd === null ? '-' : `${row.costEstimated ? '~' : ''}${formatUsd(row.costUsd)}`,
    row.costUsd === null ? '-' : String(row.turns),
    fit(oneLine(row.name), NAME_MAX),
    oneLine(row.rateLimit ?? row.lastLine ?? ''),
  ]
}

export interface TableOptions {
  /** terminal columns; each line is cut to fit */
  width: number
  now?: number
}

/** Header and one line per row, each at most `width` characters (the last output fills what is left). */
export function renderTable(rows: readonly TopRow[], options: TableOptions): {header: string; lines: string[]} {
  const now = options.now ?? Date.now()
  const table = rows.map((row) => cells(row, now))
  const widths = HEADER.map((h, i) => Math.max(h.length, ...table.map((r) => Array.from(r[i]).length)))
  const line = (r: readonly string[]) => {
    const fixed = r.slice(0, -1).map((cell, i) => (NUMERIC.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i] + cell.length - Array.from(cell).length)))
    return fit(`${fixed.join(GAP)}${GAP}${r.at(-1)}`.trimEnd(), Math.max(1, options.width))
  }
  return {header: line(HEADER), lines: table.map(line)}
}

export interface FrameOptions {
  width: number
  height: number
  selectedId?: string
  /** result of the last action, a question, or '' */
  status: string
  /** show finished tasks too (named in the title) */
  all: boolean
  intervalSecs: number
  now?: number
}

export const KEY_HELP = '↑/↓ j/k select · p pause · r resume · i interrupt · l/Enter logs · q quit'

/**
 * The whole screen: cursor home, every line followed by clear-to-end-of-line, then clear below,
 * so a redraw never flickers. The selected row is drawn in inverse video with a ">" gutter.
 */
export function renderFrame(rows: readonly TopRow[], options: FrameOptions): string {
  const width = Math.max(20, options.width)
  const height = Math.max(5, options.height)
  const now = options.now ?? Date.now()
  const active = rows.filter((r) => r.state !== 'completed' && r.state !== 'failed' && r.state !== 'interrupted').length
  const clock = new Date(now).toTimeString().slice(0, 8)
  const estimate = rows.some((r) => r.costEstimated) ? ' · ~ cost: estimate at API prices' : ''
  const held = rows.find((r) => r.rateLimit?.startsWith('held: '))?.rateLimit?.slice(6)
  const limited = held ? ` · ${held}, ${rows.filter((r) => r.rateLimit?.startsWith('held: ')).length} held` : ''
  const title = fit(`makima top · ${active} active${options.all ? ` · ${rows.length} shown` : ''} · ${clock} · every ${options.intervalSecs}s${limited}${estimate}`, width)
  const {header, lines} = renderTable(rows, {width: width - 2, now})
  const room = height - 5 // title, header, (rows), blank, status, keys
  const selected = Math.max(
    0,
    rows.findIndex((r) => r.id === options.selectedId),
  )
  const first = Math.min(Math.max(0, selected - room + 1), Math.max(0, rows.length - room))
  const out = [title, `${TERM.inverse}${`  ${header}`.padEnd(width)}${TERM.reset}`]
  if (rows.length === 0) out.push(options.all ? '  No tasks.' : '  No active tasks (start makima top --all to include finished ones).')
  lines.slice(first, first + room).forEach((text, i) => {
    out.push(first + i === selected ? `${TERM.inverse}${`> ${text}`.padEnd(width)}${TERM.reset}` : `  ${text}`)
  })
  while (out.length < height - 2) out.push('')
  out.push(fit(oneLine(options.status), width), fit(KEY_HELP, width))
  return `${TERM.home}${out.map((l) => `${l}${TERM.clearLine}`).join('\r\n')}${TERM.clearBelow}`
}
