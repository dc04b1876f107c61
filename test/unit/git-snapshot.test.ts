// Snapshots (src/lib/git/snapshot.ts) and the working-tree patch (patches.ts) read the worktree
// through a temporary copy of its index: an edit git's stat data cannot see must still be in them.
import {statSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {describe, expect, test} from 'vitest'

import {workingTreePatch} from '../../src/lib/git/patches.js'
import {createSnapshot} from '../../src/lib/git/snapshot.js'
import {makeRepo, tempRoots, type Repo} from '../support/git-fixtures.js'

const tempRoot = tempRoots('makima-snapshot-')

const second = (ms: number) => Math.floor(ms / 1000)
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
/** Wait until a new second has begun on the clock (with a margin for the file system's coarser one). */
const nextSecond = () => sleep(1000 - (Date.now() % 1000) + 30)

/**
 * Commit `file` as "one\n", then in the same second overwrite it with "two\n" (same size, same
 * inode): the index's stat data (mtime in seconds, size) still matches the file, and only the
 * index's own mtime (same second: "racily clean") tells git to read it again. Then wait for the
 * next second, so a temporary index with a fresh mtime would be newer than the edit.
 */
async function sameSecondSameSizeEdit(repo: Repo, file: string): Promise<void> {
  const full = path.join(repo.dir, file)
  const index = path.join(repo.dir, '.git', 'index')
  for (let attempt = 0; ; attempt++) {
    await nextSecond()
    writeFileSync(full, 'one\n')
    repo.git('add', '--', file)
    repo.git('commit', '-q', '-m', 'one')
    writeFileSync(full, 'two\n')
    const [edited, indexed] = [statSync(full).mtimeMs, statSync(index).mtimeMs]
    if (second(edited) === second(indexed) && second(Date.now()) === second(edited)) break
    if (attempt >= 4) throw new Error('could not commit and edit within one second')
  }
  await nextSecond()
}

describe('a same-size edit in the same second as the index was written', () => {
  test('is in the snapshot on the side ref', async () => {
    const repo = makeRepo(tempRoot(), {files: {'a.txt': 'old\n'}})
    await sameSecondSameSizeEdit(repo, 'a.txt')
    const snap = await createSnapshot(repo.dir, '00000000-0000-4000-8000-000000000000', 1, repo.head, 'snapshot')
    expect(snap).toBeDefined()
    expect(repo.git('show', `${snap!.ref}:a.txt`)).toBe('two')
    expect(repo.git('status', '--porcelain')).toBe('M a.txt')
  })

  test('is in the working-tree patch', async () => {
    const repo = makeRepo(tempRoot(), {files: {'a.txt': 'old\n'}})
    await sameSecondSameSizeEdit(repo, 'a.txt')
    expect((await workingTreePatch(repo.dir)).toString()).toContain('+two')
  })
})
