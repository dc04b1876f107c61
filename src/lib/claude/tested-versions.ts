// The Claude Code versions makima is tested with: the one place that says so. The test suite runs
// the newest (package.json's devDependency @anthropic-ai/claude-code, also the Dockerfile's
// CLAUDE_CODE_VERSION) and runs what reads Claude Code's output on the oldest too (the npm alias
// devDependency claude-code-2-1-197). test/unit/tested-versions.test.ts keeps the three equal.
import {compareVersions} from './usage.js'

export const TESTED_CLAUDE = {oldest: '2.1.197', newest: '2.1.332'} as const

/** The version in `claude --version` output ("2.1.332 (Claude Code)"); null when there is none. */
export function claudeVersionOf(output: string): string | null {
  return /(?:^|\s)v?(\d+\.\d+\.\d+)(?=\s|$)/.exec(output)?.[1] ?? null
}

/** Where a version stands against the tested range. */
export function testedRangePosition(version: string): 'older' | 'tested' | 'newer' {
  if (compareVersions(version, TESTED_CLAUDE.oldest) < 0) return 'older'
  if (compareVersions(version, TESTED_CLAUDE.newest) > 0) return 'newer'
  return 'tested'
}
