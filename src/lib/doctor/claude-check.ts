// `makima doctor`'s claude line: which Claude Code makima would run (process.claudeCommand, looked
// up on PATH), its version, and where that version stands against the ones makima is tested with.
import type {CheckResult, DoctorContext} from './check-result.js'

const INSTALL = 'npm install -g @anthropic-ai/claude-code'

export async function checkClaude(ctx: DoctorContext): Promise<CheckResult> {
  const {resolveClaudeCommand} = await import('../claude/invocation.js')
  const {TESTED_CLAUDE, claudeVersionOf, testedRangePosition} = await import('../claude/tested-versions.js')
  const tested = `makima is tested with Claude Code ${TESTED_CLAUDE.oldest} to ${TESTED_CLAUDE.newest}`
  const command = ctx.config.process.claudeCommand
  let resolved: string
  try {
    resolved = resolveClaudeCommand(command, ctx.env.PATH)
  } catch (error) {
    return {check: 'claude', status: 'fail', detail: (error as Error).message, fix: `${INSTALL}, or makima config set process.claudeCommand <path>`}
  }
  const {execa} = await import('execa')
  const r = await execa(resolved, ['--version'], {reject: false, timeout: 10_000, env: ctx.env as Record<string, string>, extendEnv: false, stdin: 'ignore'})
  const out = `${String(r.stdout ?? '')}\n${String(r.stderr ?? '')}`.trim()
  const firstLine = out.split('\n')[0] ?? ''
  if (r.exitCode !== 0) {
    const why = r.exitCode === undefined ? (r.timedOut ? 'did not answer within 10 s' : String(r.message ?? '').split('\n')[0] || 'could not be started') : `exited with ${r.exitCode}: ${firstLine}`
    return {
      check: 'claude',
      status: 'fail',
      detail: `Claude Code (process.claudeCommand "${command}" = ${resolved}) cannot be run: \`${resolved} --version\` ${why}`,
      fix: `reinstall it (${INSTALL}), or point makima at a working one: makima config set process.claudeCommand <path>`,
    }
  }
  const version = claudeVersionOf(firstLine)
  if (!version)
    return {
      check: 'claude',
      status: 'warn',
      detail: `${resolved} --version printed no version ("${firstLine}"); ${tested}`,
      fix: `check that process.claudeCommand "${command}" is Claude Code (${INSTALL})`,
    }
  const position = testedRangePosition(version)
  if (position === 'older') {
    return {
      check: 'claude',
      status: 'warn',
      detail: `${firstLine} (${resolved}) is older than the oldest Claude Code makima is tested with, ${TESTED_CLAUDE.oldest}: what makima reads of its output may differ`,
      fix: `${INSTALL}@${TESTED_CLAUDE.newest} (or newer)`,
    }
  }
  const note = position === 'newer' ? `newer than the newest tested, ${TESTED_CLAUDE.newest}` : `tested: ${TESTED_CLAUDE.oldest} to ${TESTED_CLAUDE.newest}`
  return {check: 'claude', status: 'ok', detail: `${firstLine} (${resolved}); ${note}`}
}
