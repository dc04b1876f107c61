// scripts/smoke.mjs: the smoke run CI does on Node 22, 24 and 26 (.ci/run, scripts/node-smoke.mjs),
// here on the Node running the suite, so it cannot rot unnoticed between CI runs on other Nodes.
// It starts its own scripted API, temp repository and WebSocket server; the test env's marker
// (inherited by everything it starts) lets cleanup end whatever a failure leaves behind.
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {runProcess, useCleanup} from '../support/cli.js'
import {projectRoot, testEnv} from '../support/env.js'

useCleanup()

const SMOKE = join(projectRoot, 'scripts', 'smoke.mjs')

describe('the smoke script', () => {
  test('passes every step on this Node: --version, a real task spawn, task list, the daemon handshake', async () => {
    const t = testEnv()
    const r = await runProcess(process.execPath, [SMOKE], {env: t.env, cwd: t.root, timeoutMs: 240_000})
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0)
    for (const step of ['makima --version', 'task spawn', 'task list --json', 'daemon handshake']) {
      expect(r.stdout).toContain(`smoke (Node ${process.version}): ${step} ok`)
    }
    expect(r.stdout).toContain('every step passed')
  })

  test('a failing step fails the run with the Node version and the step named', async () => {
    const t = testEnv()
    // A Claude Code that exits 1 at once: the task fails, so `task spawn` does.
    const r = await runProcess(process.execPath, [SMOKE, '--claude', '/bin/false'], {env: t.env, cwd: t.root, timeoutMs: 240_000})
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`smoke run on Node ${process.version} failed at step "task spawn"`)
    expect(r.stdout).toContain('makima --version ok')
    expect(r.stdout).not.toContain('every step passed')
  })
})
