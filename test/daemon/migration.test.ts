// A task that moves to this daemon from another one (issue 11 "Migration", docs/fleet.md): the
// server re-sends spawnTask with the last checkpoint patch, resumeSession: true and maybe the
// conversation. A bad patch is refused (commandError INVALID_FIELD naming the field) and the task
// is ended for the server (taskComplete success: false); without a history Claude Code gets the
// plan and a note that the work so far is in the worktree.
import {execFileSync} from 'node:child_process'
import {randomUUID} from 'node:crypto'
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {describe, expect, test} from 'vitest'

import {daemonWorld, useDaemonCleanup, type DaemonWorld} from '../support/daemon-world.js'
import {byPrompt, startScriptedApi, steps} from '../support/scripted-api.js'

useDaemonCleanup()

/** A checkpoint patch as protocol.md makes it, of files added on top of the repository's HEAD. */
function patchOf(w: DaemonWorld, files: Record<string, string>): {patchData: string; patchBaseSha: string} {
  const base = w.repo.head
  for (const [name, content] of Object.entries(files)) writeFileSync(join(w.repo.dir, name), content)
  w.repo.git('add', '-A')
  const diff = execFileSync('git', ['diff', '--cached', '--binary', base], {cwd: w.repo.dir})
  w.repo.git('reset', '-q', '--hard', 'HEAD')
  return {patchData: gzipSync(diff).toString('base64'), patchBaseSha: base}
}

/** Sends a spawnTask that must be refused: the commandError, and the taskComplete sent before it. */
async function refusedMove(w: DaemonWorld, fields: Record<string, unknown>) {
  const taskId = randomUUID()
  const from = w.server.messages.length
  const refusal = await w.request({type: 'spawnTask', taskId, taskName: 'moved', plan: 'continue the moved task', repoUrl: w.repo.dir, resumeSession: true, ...fields})
  const complete = await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === taskId, 5_000, `taskComplete of ${taskId}`, from)
  expect(complete.seq).toBeLessThan(refusal.seq)
  expect(w.taskMessages(taskId).filter((m) => m.type === 'taskComplete')).toHaveLength(1)
  return {taskId, refusal, complete}
}

describe('a task moved from another daemon', () => {
  test('a patch that does not decode, does not apply, or whose base is not in the repository: INVALID_FIELD naming the field, and taskComplete success: false', async () => {
    const api = await startScriptedApi(byPrompt({'continue the moved task': steps({text: 'never reached'})}))
    const w = await daemonWorld(api)
    await w.startDaemon()
    const good = patchOf(w, {'notes.txt': 'notes\n'})

    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{patchData: '@@not base64@@', patchBaseSha: good.patchBaseSha}, 'spawnTask.patchData', /not base64/],
      [{patchData: 'abc', patchBaseSha: good.patchBaseSha}, 'spawnTask.patchData', /not base64/],
      [
        {patchData: Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0]), Buffer.from('garbage that is not deflate')]).toString('base64'), patchBaseSha: good.patchBaseSha},
        'spawnTask.patchData',
        /gzip data is damaged/,
      ],
      [{patchData: gzipSync('not a patch\n').toString('base64'), patchBaseSha: good.patchBaseSha}, 'spawnTask.patchData', /git patch/],
      [{patchData: good.patchData}, 'spawnTask.patchData', /needs patchBaseSha/],
      [{patchData: good.patchData, patchBaseSha: 'HEAD~1'}, 'spawnTask.patchBaseSha', /must be a commit sha/],
    ]
    for (const [fields, field, why] of cases) {
      const {taskId, refusal, complete} = await refusedMove(w, fields)
      expect(refusal, JSON.stringify(fields).slice(0, 100)).toMatchObject({type: 'commandError', commandType: 'spawnTask', code: 'INVALID_FIELD'})
      expect(refusal.message).toContain(field)
      expect(refusal.message).toMatch(why)
      expect(complete).toMatchObject({success: false, error: expect.stringContaining(field)})
      // refused before anything was made
      expect(w.query('SELECT id FROM tasks WHERE id = ?', taskId)).toEqual([])
    }

    // a base this repository does not have: the task is ended, no worktree is made
    const unknownBase = 'f'.repeat(40)
    const noBase = await refusedMove(w, {...good, patchBaseSha: unknownBase})
    expect(noBase.refusal).toMatchObject({code: 'INVALID_FIELD'})
    expect(noBase.refusal.message).toMatch(/spawnTask\.patchBaseSha f{40} is not a commit of/)
    expect(noBase.complete).toMatchObject({success: false})
    const noBaseTask = await w.json(['task', 'show', noBase.taskId])
    expect(noBaseTask).toMatchObject({state: 'failed', worktreePath: null})
    expect(noBaseTask.error).toContain('spawnTask.patchBaseSha')

    // a patch that does not apply on its base: the task is ended as failed
    const conflicting = Buffer.from('diff --git a/README.md b/README.md\n--- a/README.md\n+++ b/README.md\n@@ -1 +1 @@\n-not what the file says\n+x\n')
    const noApply = await refusedMove(w, {patchData: gzipSync(conflicting).toString('base64'), patchBaseSha: good.patchBaseSha})
    expect(noApply.refusal).toMatchObject({code: 'INVALID_FIELD'})
    expect(noApply.refusal.message).toMatch(/spawnTask\.patchData does not apply/)
    expect(await w.json(['task', 'show', noApply.taskId])).toMatchObject({state: 'failed'})

    expect(api.calls).toEqual([]) // Claude Code never started
    await w.stopDaemon()
  })

  test('without a conversation history, Claude Code gets the plan and a note that the work so far is in the worktree; a respawn without resumeSession gets the plan alone', async () => {
    const api = await startScriptedApi(
      byPrompt({
        'finish the moved notes': (ctx) => (ctx.toolResults.length > 0 ? {text: 'finished'} : {bash: 'cat notes.txt; git status --short'}),
      }),
    )
    const w = await daemonWorld(api)
    await w.startDaemon()
    const patch = patchOf(w, {'notes.txt': 'written on the old daemon\n'})

    const moved = w.spawnTask('finish the moved notes', {...patch, resumeSession: true})
    expect((await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === moved, 60_000)).success).toBe(true)
    const first = api.calls.find((c) => c.toolResults.length === 0 && c.firstUserText.includes('finish the moved notes'))!
    expect(first.firstUserText).toMatch(/has moved here; its conversation could not come along\. The work done so far is already in this worktree/)
    expect(first.firstUserText.endsWith('finish the moved notes')).toBe(true)
    expect(first.firstUserText).not.toContain('<conversation-history>')
    expect(api.calls.flatMap((c) => c.toolResults.map((r) => r.content)).join('\n')).toContain('written on the old daemon')
    const task = await w.json(['task', 'show', moved])
    expect(task).toMatchObject({state: 'completed', baseSha: patch.patchBaseSha})
    expect(existsSync(join(task.worktreePath, 'notes.txt'))).toBe(true)

    const calls = api.calls.length
    const fresh = w.spawnTask('finish the moved notes', {...patch, resumeSession: false})
    expect((await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === fresh, 60_000)).success).toBe(true)
    expect(api.calls[calls].firstUserText).toBe('finish the moved notes')
    await w.stopDaemon()
  })
})
