// Heartbeat snapshots while the REAL claude runs a scripted Bash command: side refs built with a
// temporary index (the task branch, HEAD and the worktree's index never move), patches in the
// store that restore byte-identical files (binary included), and the patch size cap.
import {execFileSync} from 'node:child_process'
import {join} from 'node:path'
import {gunzipSync} from 'node:zlib'

import Database from 'better-sqlite3'
import {describe, expect, test} from 'vitest'

import {useCleanup} from '../support/cli.js'
import {checkpointWorld, treeBytes, treeDifferences} from '../support/checkpoint-world.js'
import {steps} from '../support/scripted-api.js'

useCleanup()

const WRITE_FILES = "printf 'hello\\nworld\\n' > notes.txt && head -c 4096 /dev/urandom > blob.bin && printf '#!/bin/sh\\necho hi\\n' > tool.sh && chmod +x tool.sh && printf 'changed\\n' >> README.md"
const EXPECTED_STATUS = [' M README.md', '?? blob.bin', '?? notes.txt', '?? tool.sh']
const SKIP = ['.git', '.makima']

const heartbeatEnv = {MAKIMA_DAEMON_PROCESS_HEARTBEATCOMMITINTERVALSECS: '1'}

describe('heartbeat snapshots', () => {
  test('snapshot refs while the task runs; branch, HEAD and index untouched; the stored patch restores byte-identical files', async () => {
    const w = await checkpointWorld(steps({bash: `${WRITE_FILES} && sleep 4`}, {text: 'Files written.'}), {extra: heartbeatEnv})
    const task = await w.json(['task', 'spawn', '--repo', w.repo.dir, 'write files and wait'], 90_000)
    expect(task.state).toBe('completed')
    const wt = task.worktreePath as string

    // At least one snapshot ref; only one or two (a snapshot is skipped when nothing changed).
    const refs = w.repo.git('for-each-ref', '--format=%(refname)', `refs/makima/checkpoints/${task.id}`).split('\n').filter(Boolean)
    expect(refs.length).toBeGreaterThanOrEqual(1)
    expect(refs.length).toBeLessThanOrEqual(2)
    // The task branch's history and the worktree's HEAD and index did not move.
    expect(w.repo.git('log', '--format=%H', task.branch)).toBe(w.repo.head)
    expect(w.git(wt, 'rev-parse', 'HEAD')).toBe(w.repo.head)
    expect(w.git(wt, 'symbolic-ref', '--short', 'HEAD')).toBe(task.branch)
    expect(w.git(wt, 'status', '--porcelain', '--untracked-files=all').split('\n').sort()).toEqual(EXPECTED_STATUS)
    expect(w.git(wt, 'diff', '--cached', '--name-only')).toBe('')

    const logs = await w.makima(['task', 'logs', task.id])
    expect(logs.stdout).toMatch(/Heartbeat snapshot \d+: 4 files/)

    const snapshots = (await w.json(['checkpoint', 'list', task.id])).filter((c: any) => c.kind === 'snapshot')
    expect(snapshots.map((s: any) => s.ref).sort()).toEqual([...refs].sort())
    const last = snapshots.at(-1)
    expect(last).toMatchObject({hasPatch: true, patchBaseSha: w.repo.head, filesCount: 4, message: 'heartbeat snapshot'})
    expect(w.repo.git('rev-parse', `${last.ref}^`)).toBe(w.repo.head) // a commit on top of HEAD, on the side ref only
    expect(w.repo.git('ls-tree', '-r', '--name-only', last.ref).split('\n').sort()).toEqual(['README.md', 'blob.bin', 'notes.txt', 'tool.sh'])

    // The patch as stored (base64 of gzip on the wire; gzip in the database), applied by plain git
    // on a fresh worktree at its base: byte-identical to the task's worktree.
    const db = new Database(join(w.t.makimaHome, 'makima.db'), {readonly: true})
    const row = db.prepare("SELECT patch, patch_base_sha AS base FROM checkpoints WHERE task_id = ? AND kind = 'snapshot' AND number = ?").get(task.id, last.number) as {
      patch: Buffer
      base: string
    }
    db.close()
    const fresh = join(w.t.root, 'fresh')
    w.git(w.repo.dir, 'worktree', 'add', '--detach', fresh, row.base)
    execFileSync('git', ['apply', '--binary', '-'], {cwd: fresh, input: gunzipSync(row.patch), env: w.t.env})
    expect(treeDifferences(treeBytes(wt, SKIP), treeBytes(fresh, SKIP))).toEqual([])

    // The same through `makima checkpoint restore` (dir given with ~).
    const restored = await w.json(['checkpoint', 'restore', task.shortId, String(last.number), '~/restored-heartbeat'])
    expect(restored).toMatchObject({method: 'patch', kind: 'snapshot', number: last.number, headSha: w.repo.head, targetDir: join(w.t.home, 'restored-heartbeat')})
    expect(treeDifferences(treeBytes(wt, SKIP), treeBytes(restored.targetDir, SKIP))).toEqual([])
    expect(w.git(restored.targetDir, 'status', '--porcelain', '--untracked-files=all').split('\n').sort()).toEqual(EXPECTED_STATUS)
  }, 120_000)

  test('a patch over checkpointPatches.maxPatchSizeBytes is not stored (and says so); the side ref still restores', async () => {
    const w = await checkpointWorld(steps({bash: `${WRITE_FILES} && sleep 3`}, {text: 'Files written.'}), {extra: heartbeatEnv})
    expect((await w.makima(['config', 'set', 'checkpointPatches.maxPatchSizeBytes', '100'])).code).toBe(0)
    const task = await w.json(['task', 'spawn', '--repo', w.repo.dir, 'write big files'], 90_000)
    expect(task.state).toBe('completed')
    const logs = await w.makima(['task', 'logs', task.id])
    expect(logs.stdout).toMatch(/Heartbeat snapshot \d+: .*over checkpointPatches\.maxPatchSizeBytes \(100\): stored without its patch/)
    const last = (await w.json(['checkpoint', 'list', task.id])).filter((c: any) => c.kind === 'snapshot').at(-1)
    expect(last).toMatchObject({hasPatch: false, patchBytes: null})
    const restored = await w.json(['checkpoint', 'restore', task.id, String(last.number), join(w.t.root, 'from-ref')])
    expect(restored).toMatchObject({method: 'ref', headSha: w.repo.head})
    expect(treeDifferences(treeBytes(task.worktreePath, SKIP), treeBytes(restored.targetDir, SKIP))).toEqual([])
    expect(w.git(restored.targetDir, 'status', '--porcelain', '--untracked-files=all').split('\n').sort()).toEqual(EXPECTED_STATUS)
  }, 120_000)
})
