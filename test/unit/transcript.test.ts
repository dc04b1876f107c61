import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {projectRoot} from '../support/env.js'
import {parseStreamLine} from '../../src/lib/claude/stream-event.js'
import {TranscriptRenderer} from '../../src/lib/ui/transcript.js'

const FIXTURES = join(projectRoot, 'test', 'fixtures', 'claude-stream-json')

function renderFile(file: string, renderer = new TranscriptRenderer({color: false, width: 100}), dir = FIXTURES): string[] {
  return readFileSync(join(dir, file), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .flatMap((l) => renderer.render(parseStreamLine(l)))
}

function toolResultLine(content: string, isError = false): string {
  return JSON.stringify({
    type: 'user',
    message: {role: 'user', content: [{type: 'tool_result', tool_use_id: 'toolu_x', content, is_error: isError}]},
  })
}

function toolUseLine(name: string, input: unknown): string {
  return JSON.stringify({
    type: 'assistant',
    message: {model: 'claude-opus-4-8', content: [{type: 'tool_use', id: 'toolu_x', name, input}]},
  })
}

describe('TranscriptRenderer', () => {
  it('renders print-twofiles as a readable transcript', () => {
    const lines = renderFile('print-twofiles.jsonl')
    expect(lines).toEqual([
      'session c4edff73 · model claude-opus-4-8[1m]',
      '⏺ Bash(mkdir -p src && printf "export const a = 1;\\n" > src/a.ts)',
      '  ⎿  (no output)',
      '⏺ Bash(printf "export const b = 2;\\n" > src/b.ts && git status --short)',
      '  ⎿  ?? src/',
      'Wrote src/a.ts and src/b.ts.',
      '✓ done in 0.3s · $0.0004 · 3 turns',
    ])
  })

  it('renders print-twofiles of Claude Code 2.1.332 the same way (its result line has another field order)', () => {
    const lines = renderFile('print-twofiles.jsonl', undefined, join(FIXTURES, '2.1.332'))
    expect(lines).toEqual([
      expect.stringMatching(/^session [0-9a-f]{8} · model claude-opus-5-5$/),
      '⏺ Bash(mkdir -p src && printf "export const a = 1;\\n" > src/a.ts)',
      '  ⎿  (no output)',
      '⏺ Bash(printf "export const b = 2;\\n" > src/b.ts && git status --short)',
      '  ⎿  ?? src/',
      'Wrote src/a.ts and src/b.ts.',
      '✓ done in 0.4s · $0.0001 · 3 turns',
    ])
  })

  it('never emits ANSI escapes without color, and does with color', () => {
    const plain = renderFile('print-twofiles.jsonl').join('\n')
    expect(plain).not.toContain('\u001b[')
    const colored = renderFile('print-twofiles.jsonl', new TranscriptRenderer({color: true})).join('\n')
    expect(colored).toContain('\u001b[2msession c4edff73')
    expect(colored).toContain('\u001b[32m✓ done in 0.3s')
  })

  it('truncates a long tool result to 5 lines plus "+N lines", and long lines to the width', () => {
    const r = new TranscriptRenderer({color: false, width: 40})
    const output = Array.from({length: 12}, (_, i) => `line ${i + 1} ` + 'x'.repeat(i === 0 ? 80 : 0)).join('\n')
    const lines = r.render(parseStreamLine(toolResultLine(output)))
    expect(lines).toHaveLength(6)
    expect(lines[0].startsWith('  ⎿  line 1 xxx')).toBe(true)
    expect(lines[0].length).toBe(40)
    expect(lines[0].endsWith('…')).toBe(true)
    expect(lines[4]).toBe('     line 5 ')
    expect(lines[5]).toBe('  … +7 lines')
  })

  it('marks tool errors with the tool name from its tool_use', () => {
    const r = new TranscriptRenderer({color: false})
    expect(r.render(parseStreamLine(toolUseLine('Bash', {command: 'false\necho second'})))).toEqual(['⏺ Bash(false …)'])
    expect(r.render(parseStreamLine(toolResultLine('Exit code 1', true)))).toEqual(['  ⎿  Error (Bash): Exit code 1'])
  })

  it('summarises tool inputs per tool', () => {
    const r = new TranscriptRenderer({color: false, width: 60})
    const one = (name: string, input: unknown) => r.render(parseStreamLine(toolUseLine(name, input)))[0]
    expect(one('Read', {file_path: '/repo/src/a.ts'})).toBe('⏺ Read(/repo/src/a.ts)')
    expect(one('Edit', {file_path: 'b.ts', old_string: 'x', new_string: 'y'})).toBe('⏺ Edit(b.ts)')
    expect(one('Grep', {pattern: 'TODO', path: 'src'})).toBe('⏺ Grep(TODO)')
    expect(one('Glob', {pattern: '**/*.ts'})).toBe('⏺ Glob(**/*.ts)')
    expect(one('TodoWrite', {todos: [{content: 'a'}]})).toBe('⏺ TodoWrite({"todos":[{"content":"a"}]})')
    const long = one('Bash', {command: 'echo ' + 'y'.repeat(200)})
    expect(long.length).toBeLessThanOrEqual(60)
    expect(long).toMatch(/^⏺ Bash\(echo y+…\)$/)
  })

  it('shows Read results as a line count and empty output as (no output)', () => {
    const r = new TranscriptRenderer({color: false})
    r.render(parseStreamLine(toolUseLine('Read', {file_path: 'a.ts'})))
    expect(r.render(parseStreamLine(toolResultLine('1\ta\n2\tb\n3\tc')))).toEqual(['  ⎿  Read 3 lines'])
    expect(r.render(parseStreamLine(toolResultLine('')))).toEqual(['  ⎿  (no output)'])
  })

  it('renders api-500 as a failed line carrying the error text', () => {
    const lines = renderFile('api-500.jsonl')
    const last = lines[lines.length - 1]
    expect(last).toMatch(/^✗ failed: API Error: 500 scripted failure\./)
    expect(lines.some((l) => l.startsWith('✓'))).toBe(false)
  })

  it('renders api_retry lines', () => {
    const lines = renderFile('auth-401-first25s.jsonl')
    expect(lines[1]).toBe('! API error 401, retry 1/10')
    expect(lines).toHaveLength(7)
  })

  it('shows nothing for task_* system lines and unknown types, raw text for invalid lines', () => {
    const r = new TranscriptRenderer({color: true})
    expect(r.render(parseStreamLine('{"type":"system","subtype":"task_started","task_id":"x"}'))).toEqual([])
    expect(r.render(parseStreamLine('{"type":"rate_limit_event"}'))).toEqual([])
    expect(r.render(parseStreamLine('warning: stray stderr'))).toEqual(['warning: stray stderr'])
    const slow = renderFile('slow.jsonl')
    expect(slow).toEqual([
      'session b5a9a0ca · model claude-opus-4-8[1m]',
      '⏺ Bash(for i in 1 2 3 4 5 6 7 8 9 10; do echo tick $i >> ticks.txt; sleep 1; done)',
      '  ⎿  (no output)',
      'slow done',
      '✓ done in 10.2s · $0.0003 · 2 turns',
    ])
  })

  it('renders progress lines', () => {
    expect(new TranscriptRenderer({color: false}).renderProgress('Worktree ready at /tmp/w')).toBe('▸ Worktree ready at /tmp/w')
    expect(new TranscriptRenderer({color: true}).renderProgress('x')).toBe('\u001b[36m▸ x\u001b[39m')
  })
})
