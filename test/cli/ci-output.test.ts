// An attached `task spawn` in CI: a plain transcript, one summary line, the Markdown summary in
// GITHUB_STEP_SUMMARY, --output <file> with the task object; `task logs --format markdown`.
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {useCleanup} from '../support/cli.js'
import {steps} from '../support/scripted-api.js'
import {taskWorld} from '../support/task-helpers.js'

useCleanup()

describe('task spawn in CI', () => {
  test('plain transcript, one summary line, GITHUB_STEP_SUMMARY and --output; logs --format markdown', async () => {
    const w = await taskWorld(steps({bash: 'echo ci-line > ci-made.txt'}, {text: 'Made ci-made.txt in CI.'}))
    const summary = join(w.t.root, 'step-summary.md')
    writeFileSync(summary, '# earlier step\n')
    const output = join(w.t.root, 'task.json')
    w.t.env.GITHUB_STEP_SUMMARY = summary
    const r = await w.makima(['task', 'spawn', '--repo', w.repo.dir, '--output', output, 'make ci-made.txt'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain('Made ci-made.txt in CI.')
    // eslint-disable-next-line no-control-regex
    expect(r.stdout + r.stderr).not.toMatch(/[\u001b\r]/)

    const task = JSON.parse(readFileSync(output, 'utf8'))
    expect(task).toMatchObject({state: 'completed', plan: 'make ci-made.txt', exitCode: 0})
    const last = r.stderr.trimEnd().split('\n').at(-1)!
    expect(last).toMatch(new RegExp(`^Task ${task.shortId} completed in \\d+\\.\\ds, (cost \\$[\\d.]+, )?branch ${task.branch}, worktree `))

    const md = readFileSync(summary, 'utf8')
    expect(md.startsWith('# earlier step\n')).toBe(true) // appended, not replaced
    expect(md).toContain(`### makima task ${task.shortId}: completed`)
    expect(md).toContain('make ci-made.txt')
    expect(md).toContain('**Files changed** (1)')
    expect(md).toContain('- `ci-made.txt`')

    const logs = await w.makima(['task', 'logs', '--format', 'markdown', task.id])
    expect(logs.code, logs.stderr).toBe(0)
    expect(logs.stdout).toContain(`### makima task ${task.shortId}: completed`)
    expect(logs.stdout).toMatch(/<details><summary>Transcript<\/summary>\n\n```text\n[\s\S]*Made ci-made.txt in CI\.[\s\S]*\n```\n\n<\/details>\n$/)
  })
})
