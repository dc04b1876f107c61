// Where the paths a server sends may point (docs/protocol-paths.md), against a real daemon: readRepoFile
// serves the repositories makima knows (task repositories and worktrees, cached clones,
// daemon.readRoots) and nothing else: not /etc, not MAKIMA_HOME's own files, nothing inside a .git
// directory. cloneWorktree/checkTargetExists stay out of MAKIMA_HOME, targetRepoPath names a git
// repository that is not a task worktree, inheritGitConfig.sourceDir a git repository.
import {randomUUID} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, test} from 'vitest'

import {daemonWorld, useDaemonCleanup, type DaemonWorld} from '../support/daemon-world.js'
import {refused, type Expectation} from '../support/refusals.js'
import {byPrompt, startScriptedApi} from '../support/scripted-api.js'

useDaemonCleanup()

let w: DaemonWorld
/** a completed task of the daemon in w.repo, and its worktree (under MAKIMA_HOME/worktrees) */
let done: string
let worktree: string
/** a directory nothing tells the daemon about */
let stranger: string
const SECRET = 'never-served-secret'

beforeAll(async () => {
  const api = await startScriptedApi(byPrompt({'quick task': {text: 'quick answer'}}))
  w = await daemonWorld(api)
  // a nested .git directory inside the repository, a link into .git, and a file in a readRoots directory
  mkdirSync(join(w.repo.dir, 'sub', '.git'), {recursive: true})
  writeFileSync(join(w.repo.dir, 'sub', '.git', 'x'), `${SECRET}\n`)
  symlinkSync('.git/config', join(w.repo.dir, 'git-config-link'))
  mkdirSync(join(w.t.root, 'shared'))
  writeFileSync(join(w.t.root, 'shared', 'notes.txt'), 'shared notes\n')
  // MAKIMA_HOME listed in daemon.readRoots by mistake: its own files are still refused
  writeFileSync(join(w.t.makimaHome, 'config.json'), JSON.stringify({daemon: {readRoots: [join(w.t.root, 'shared'), w.t.makimaHome]}, note: SECRET}))
  stranger = mkdtempSync(join(tmpdir(), 'makima-stranger-'))
  writeFileSync(join(stranger, 'secret.txt'), `${SECRET}\n`)
  await w.startDaemon()
  done = w.spawnTask('quick task')
  await w.server.waitForMessage((m) => m.type === 'taskComplete' && m.taskId === done, 60_000)
  worktree = (await w.json(['task', 'show', done])).worktreePath
})

afterAll(() => {
  if (stranger) rmSync(stranger, {recursive: true, force: true})
})

const read = (repoPath: string, filePath: string) => ({type: 'readRepoFile', requestId: randomUUID(), contractId: randomUUID(), repoPath, filePath})

/** readRepoFile refused: INVALID_FIELD, a repoFileContent with success: false, nothing of the file in either. */
async function readRefused(repoPath: string, filePath: string, message?: RegExp): Promise<string> {
  const frame = read(repoPath, filePath)
  const r = await refused(w, frame, {code: 'INVALID_FIELD', answer: 'repoFileContent', message} satisfies Expectation)
  expect(r.error.requestId).toBe(frame.requestId)
  expect(r.answer).toMatchObject({requestId: frame.requestId, filePath, success: false})
  expect(r.answer.content).toBeUndefined()
  for (const text of [JSON.stringify(r), w.daemon!.stderr]) {
    expect(text).not.toContain(SECRET)
    expect(text).not.toContain('root:x:0')
  }
  return r.error.message
}

describe('readRepoFile', () => {
  test('a directory makima does not know is refused, saying what is allowed', async () => {
    const etc = await readRefused('/etc', 'passwd', /repoPath \/etc is not a repository makima knows/)
    expect(etc).toMatch(/task.*worktrees.*cached clones.*daemon\.readRoots/)
    expect(etc).toContain(join(w.t.root, 'shared'))
    await readRefused(stranger, 'secret.txt', /not a repository makima knows/)
    await readRefused('~', '.bashrc', /not a repository makima knows/)
  })

  test("makima's own files are refused even when MAKIMA_HOME is in daemon.readRoots", async () => {
    await readRefused(w.t.makimaHome, 'config.json', /MAKIMA_HOME/)
    await readRefused(w.t.makimaHome, 'makima.db', /MAKIMA_HOME/)
    await readRefused(join(w.t.makimaHome, 'worktrees'), 'anything.txt', /MAKIMA_HOME/)
  })

  test('nothing inside a .git directory: as the repository, a component of the file, or through a link', async () => {
    await readRefused(join(w.repo.dir, '.git'), 'config', /\.git/)
    await readRefused(w.repo.dir, 'sub/.git/x', /\.git/)
    await readRefused(w.repo.dir, 'git-config-link', /\.git/)
    await readRefused(worktree, '.git', /\.git/)
  })

  test("a known task's repository and worktree, and daemon.readRoots, are still served", async () => {
    for (const [repoPath, filePath, content] of [
      [w.repo.dir, 'README.md', '# test repo\n'],
      [worktree, 'README.md', '# test repo\n'],
      [join(w.t.root, 'shared'), 'notes.txt', 'shared notes\n'],
    ]) {
      const frame = read(repoPath, filePath)
      expect(await w.request(frame, 'repoFileContent')).toMatchObject({type: 'repoFileContent', requestId: frame.requestId, filePath, success: true, content})
    }
  })
})

describe('the other paths a server sends', () => {
  test('cloneWorktree / checkTargetExists: absolute or ~, never inside MAKIMA_HOME or a .git directory', async () => {
    const inHome = join(w.t.makimaHome, 'clone-here')
    const clone = await refused(w, {type: 'cloneWorktree', taskId: done, targetDir: inHome}, {code: 'INVALID_FIELD', answer: 'cloneWorktreeResult', message: /cloneWorktree\.targetDir.*MAKIMA_HOME/})
    expect(clone.answer).toMatchObject({taskId: done, success: false})
    expect(existsSync(inHome)).toBe(false)
    await refused(w, {type: 'cloneWorktree', taskId: done, targetDir: 'relative/dir'}, {code: 'INVALID_FIELD', answer: 'cloneWorktreeResult', message: /absolute/})
    await refused(w, {type: 'cloneWorktree', taskId: done, targetDir: join(w.repo.dir, '.git', 'x')}, {code: 'INVALID_FIELD', answer: 'cloneWorktreeResult', message: /\.git/})
    await refused(w, {type: 'checkTargetExists', taskId: done, targetDir: w.t.makimaHome}, {code: 'INVALID_FIELD', answer: 'checkTargetExistsResult', message: /MAKIMA_HOME/})
    const fresh = join(w.t.root, 'fresh')
    expect(await w.request({type: 'checkTargetExists', taskId: done, targetDir: fresh}, 'checkTargetExistsResult')).toMatchObject({exists: false, targetDir: fresh})
  })

  test('targetRepoPath: a git repository, not a task worktree; nothing is recorded for a refused spawnTask', async () => {
    const retry = {type: 'retryCompletionAction', taskId: done, taskName: 'quick', action: 'branch'}
    await refused(w, {...retry, targetRepoPath: worktree}, {code: 'INVALID_FIELD', answer: 'completionActionResult', message: /retryCompletionAction\.targetRepoPath.*task worktree/})
    await refused(w, {...retry, targetRepoPath: 'repo'}, {code: 'INVALID_FIELD', answer: 'completionActionResult', message: /absolute/})
    await refused(w, {...retry, targetRepoPath: join(w.t.root, 'shared')}, {code: 'INVALID_FIELD', answer: 'completionActionResult', message: /not a git repository/})
    const taskId = randomUUID()
    const spawn = {type: 'spawnTask', taskId, taskName: 'x', plan: 'quick task', repoUrl: w.repo.dir, completionAction: 'branch'}
    await refused(w, {...spawn, targetRepoPath: worktree}, {code: 'INVALID_FIELD', message: /spawnTask\.targetRepoPath.*task worktree/})
    await refused(w, {...spawn, targetRepoPath: w.t.makimaHome}, {code: 'INVALID_FIELD', message: /spawnTask\.targetRepoPath/})
    expect(w.query('SELECT id FROM tasks WHERE id = ?', taskId)).toEqual([])
  })

  test('inheritGitConfig.sourceDir: a git repository outside MAKIMA_HOME', async () => {
    await refused(w, {type: 'inheritGitConfig', sourceDir: w.t.makimaHome}, {code: 'INVALID_FIELD', answer: 'gitConfigInherited', message: /sourceDir.*MAKIMA_HOME/})
    await refused(w, {type: 'inheritGitConfig', sourceDir: join(w.t.root, 'shared')}, {code: 'INVALID_FIELD', answer: 'gitConfigInherited', message: /not in a git repository/})
    await refused(w, {type: 'inheritGitConfig', sourceDir: 'shared'}, {code: 'INVALID_FIELD', answer: 'gitConfigInherited', message: /absolute/})
    const identity = await w.request({type: 'inheritGitConfig', sourceDir: w.repo.dir}, 'gitConfigInherited')
    expect(identity).toMatchObject({success: true, userName: 'makima test'})
    expect(w.daemon!.exit).toBeUndefined()
  })
})
