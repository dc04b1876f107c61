// The tested Claude Code range (src/lib/claude/tested-versions.ts) is what the suite really runs:
// its newest is package.json's pinned devDependency, its oldest the npm alias devDependency, and
// the two executables in node_modules print those versions (real child processes); the CI
// recipes install the newest.
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {TESTED_CLAUDE, claudeVersionOf, testedRangePosition} from '../../src/lib/claude/tested-versions.js'
import {CLAUDE_VERSIONS, PINNED_CLAUDE, projectRoot} from '../support/env.js'

const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8'))

describe('the tested Claude Code range', () => {
  it('is package.json: newest = the pinned devDependency, oldest = the npm alias', () => {
    expect(pkg.devDependencies['@anthropic-ai/claude-code']).toBe(TESTED_CLAUDE.newest)
    expect(pkg.devDependencies['claude-code-2-1-197']).toBe(`npm:@anthropic-ai/claude-code@${TESTED_CLAUDE.oldest}`)
    expect(CLAUDE_VERSIONS.map((v) => v.label)).toEqual([TESTED_CLAUDE.newest, TESTED_CLAUDE.oldest])
    expect(CLAUDE_VERSIONS[0].bin).toBe(PINNED_CLAUDE)
  })

  it.each(['github-actions.yml', 'gitlab-ci.yml'])('the CI recipe %s installs the newest tested', (file) => {
    const text = readFileSync(join(projectRoot, 'examples', 'ci', file), 'utf8')
    expect([...text.matchAll(/@anthropic-ai\/claude-code@(\S+)/g)].map((m) => m[1])).toEqual([TESTED_CLAUDE.newest])
  })

  it.each(CLAUDE_VERSIONS)('node_modules holds Claude Code $label where the tests look for it', ({label, bin}) => {
    const out = execFileSync(bin, ['--version'], {encoding: 'utf8', timeout: 30_000})
    expect(claudeVersionOf(out)).toBe(label)
  })

  it('reads versions and places them against the range', () => {
    expect(claudeVersionOf('2.1.332 (Claude Code)\n')).toBe('2.1.332')
    expect(claudeVersionOf('Claude Code v2.10.0')).toBe('2.10.0')
    expect(claudeVersionOf('command not found')).toBeNull()
    expect(testedRangePosition('1.0.0')).toBe('older')
    expect(testedRangePosition('2.1.99')).toBe('older')
    expect(testedRangePosition('2.1.197')).toBe('tested')
    expect(testedRangePosition('2.1.250')).toBe('tested')
    expect(testedRangePosition('2.1.332')).toBe('tested')
    expect(testedRangePosition('2.1.333')).toBe('newer')
    expect(testedRangePosition('3.0.0')).toBe('newer')
  })
})
