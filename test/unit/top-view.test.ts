// The text of `makima top`: table cells, fitting a terminal width, the frame, and key decoding.
import {describe, expect, test} from 'vitest'

import {decodeKeys} from '../../src/lib/ui/top-keys.js'
import type {TopRow} from '../../src/lib/ui/top-rows.js'
import {formatBytes, formatCpu, renderFrame, renderTable} from '../../src/lib/ui/top-view.js'

const NOW = Date.parse('2026-01-01T12:00:00Z')

function row(over: Partial<TopRow>): TopRow {
  return {
    id: '6e21a445-0000-4000-8000-000000000000',
    shortId: '6e21a445',
    name: 'sleeper',
    state: 'running',
    createdAt: new Date(NOW - 95_000).toISOString(),
    processes: 3,
    cpuPercent: 12.345,
    rssBytes: 253 * 1024 * 1024,
    costUsd: 0.0123,
    costEstimated: false,
    turns: 7,
    lastLine: '⏺ Bash(echo warming up; sleep 300)',
    rateLimit: null,
    ...over,
  }
}

describe('top cells', () => {
  test('CPU and RSS', () => {
    expect(formatCpu(null)).toBe('-')
    expect(formatCpu(0)).toBe('0.0%')
    expect(formatCpu(153.26)).toBe('153.3%')
    expect(formatBytes(null)).toBe('-')
    expect(formatBytes(512 * 1024)).toBe('512K')
    expect(formatBytes(9.84 * 1024 * 1024)).toBe('9.8M')
    expect(formatBytes(253 * 1024 * 1024)).toBe('253M')
    expect(formatBytes(1.25 * 1024 ** 3)).toBe('1.3G')
  })
})

describe('renderTable', () => {
  test('aligned columns; a task without processes has no CPU or RSS, one without runs no cost or turns', () => {
    const done = row({
      shortId: 'abcd1234',
      state: 'completed',
      name: 'done',
      processes: 0,
      cpuPercent: null,
      rssBytes: null,
      costUsd: 0.00006,
      costEstimated: true,
      turns: 2,
      lastLine: '✓ done in 2.0s',
    })
    const pending = row({shortId: 'ffff0000', state: 'pending', name: 'later', processes: 0, cpuPercent: null, rssBytes: null, costUsd: null, turns: 0, lastLine: null})
    const {header, lines} = renderTable([row({}), done, pending], {width: 200, now: NOW})
    expect(header).toBe('ID        STATE      AGE    CPU   RSS       COST  TURNS  NAME     LAST OUTPUT')
    expect(lines).toEqual([
      '6e21a445  running    1m   12.3%  253M    $0.0123      7  sleeper  ⏺ Bash(echo warming up; sleep 300)',
      'abcd1234  completed  1m       -     -  ~$0.00006      2  done     ✓ done in 2.0s',
      'ffff0000  pending    1m       -     -          -      -  later',
    ])
  })

  test('every line fits the width; control characters in output or names cannot reach the terminal', () => {
    const long = row({name: `a very long task name that goes on\nand on`, lastLine: `x\u001b[2J${'y'.repeat(300)}\r`})
    const {header, lines} = renderTable([long], {width: 80, now: NOW})
    for (const line of [header, ...lines]) expect(Array.from(line).length).toBeLessThanOrEqual(80)
    expect(lines[0]).toMatch(/…$/)
    // eslint-disable-next-line no-control-regex
    expect(lines[0]).not.toMatch(/[\u0000-\u001f]/)
    expect(lines[0]).toContain('a very long task name t…')
  })
})

describe('renderFrame', () => {
  test('one screen: title, header, the selected row marked, status and keys on the last lines', () => {
    const rows = [row({}), row({id: 'other', shortId: 'ffff0000', name: 'second'})]
    const frame = renderFrame(rows, {width: 100, height: 10, selectedId: 'other', status: 'Task ffff0000 is paused.', all: false, intervalSecs: 2, now: NOW})
    // eslint-disable-next-line no-control-regex
    const lines = frame.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').split('\r\n')
    expect(lines).toHaveLength(10)
    expect(lines[0]).toMatch(/^makima top · 2 active · \d\d:\d\d:\d\d · every 2s$/)
    const estimated = renderFrame([row({costEstimated: true})], {width: 100, height: 10, status: '', all: false, intervalSecs: 2, now: NOW})
    expect(estimated.split('\r\n')[0]).toContain('· ~ cost: estimate at API prices')
    expect(lines[2].startsWith('  6e21a445')).toBe(true)
    expect(lines[3].startsWith('> ffff0000')).toBe(true)
    expect(lines[8]).toBe('Task ffff0000 is paused.')
    expect(lines[9]).toContain('q quit')
  })

  test('more tasks than lines: the selected one stays on screen', () => {
    const rows = Array.from({length: 30}, (_, i) => row({id: `t${i}`, shortId: `t${String(i).padStart(7, '0')}`}))
    const frame = renderFrame(rows, {width: 100, height: 10, selectedId: 't25', status: '', all: false, intervalSecs: 2, now: NOW})
    // eslint-disable-next-line no-control-regex
    const lines = frame.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').split('\r\n')
    expect(lines).toHaveLength(10)
    expect(lines.some((l) => l.startsWith('> t0000025'))).toBe(true)
  })
})

describe('decodeKeys', () => {
  test('arrows, Enter, Ctrl-C and letters, several in one chunk; unknown escape sequences are skipped', () => {
    expect(decodeKeys('\u001b[A\u001b[Bjk')).toEqual(['up', 'down', 'j', 'k'])
    expect(decodeKeys('\u001bOA\r\u0003')).toEqual(['up', 'enter', 'ctrl-c'])
    expect(decodeKeys('\u001b[15~p\u001b')).toEqual(['p', 'escape'])
  })
})
