// --repo sources through the built CLI with real git and the REAL claude (scripted API): a URL is
// cloned once into $MAKIMA_HOME/repos and fetched on reuse, a URL that cannot be cloned fails
// with git's message and leaves nothing behind, new://<name> makes a repository with an initial
// commit, and a worktree always has a commit identity (inherited, else makima's).
import {existsSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {useCleanup} from '../support/cli.js'
import {git, gitWithEnv} from '../support/git-fixtures.js'
import {entries, repoWorld} from '../support/repo-world.js'
import {steps} from '../support/scripted-api.js'

useCleanup()

describe('--repo <url>', () => {
  test('two tasks from one file:// URL share one clone; the second fetches what was pushed meanwhile', async () => {
    const w = await repoWorld(steps({text: 'ok'}), {bare: true})
    const url = `file://${w.repo.remote}`
    const first = await w.spawnDetached(['--repo', url, 'first task on the url'])
    const reposDir = join(w.t.makimaHome, 'repos')
    expect(entries(reposDir)).toHaveLength(1)
    const cloneDir = join(reposDir, entries(reposDir)[0])
    expect(entries(reposDir)[0]).toMatch(/^repo-[a-z0-9]+-[0-9a-f]{10}$/) // readable name + hash of the URL

    // A new commit reaches the remote after the clone was made.
    writeFileSync(join(w.repo.dir, 'later.txt'), 'pushed after the first clone\n')
    w.repo.git('add', 'later.txt')
    w.repo.git('commit', '-q', '-m', 'later')
    w.repo.git('push', '-q', 'origin', 'main')
    const pushed = w.repo.git('rev-parse', 'HEAD')

    const second = await w.spawnDetached(['--repo', url, 'second task on the url'])
    const [a, b] = [await w.waitCompleted(first), await w.waitCompleted(second)]
    expect(entries(reposDir)).toEqual([entries(reposDir)[0]]) // still one clone
    expect(a).toMatchObject({state: 'completed', repoSource: url, baseBranch: 'main', baseSha: w.repo.head})
    expect(b).toMatchObject({state: 'completed', repoSource: url, baseBranch: 'main', baseSha: pushed}) // fetched
    for (const task of [a, b]) {
      expect(existsSync(task.worktreePath)).toBe(true)
      expect(git(task.worktreePath, 'rev-parse', '--git-common-dir')).toBe(join(cloneDir, '.git'))
    }
    expect(existsSync(join(b.worktreePath, 'later.txt'))).toBe(true)
    expect(existsSync(join(a.worktreePath, 'later.txt'))).toBe(false)
    // The clone's origin is the URL; the source repository was never touched by makima.
    expect(git(cloneDir, 'config', '--get', 'remote.origin.url')).toBe(url)
    expect(w.repo.git('branch', '--list', 'makima/*')).toBe('')
  }, 180_000)

  test('two processes creating tasks from a new URL at once clone it once', async () => {
    const w = await repoWorld(steps({text: 'ok'}), {bare: true})
    const url = `file://${w.repo.remote}`
    const runs = await Promise.all([1, 2, 3].map((n) => w.makima(['task', 'create', '--repo', url, `task ${n}`])))
    for (const r of runs) expect(r.code, r.stderr).toBe(0)
    const reposDir = join(w.t.makimaHome, 'repos')
    expect(entries(reposDir)).toHaveLength(1)
    const tasks = await w.json(['task', 'list', '--all'])
    expect(tasks.map((t: any) => [t.state, t.repoSource, t.baseBranch])).toEqual(Array(3).fill(['pending', url, 'main']))
  })

  test("a URL that cannot be cloned fails with git's message, records nothing and leaves no half-made clone", async () => {
    const w = await repoWorld(steps({text: 'ok'}))
    const r = await w.makima(['task', 'spawn', '--detach', '--repo', 'file:///nonexistent/makima-no-such-repo.git', 'never runs'])
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toMatch(/^Error: could not clone file:\/\/\/nonexistent\/makima-no-such-repo\.git: .*does not appear to be a git repository/m)
    const reposDir = join(w.t.makimaHome, 'repos')
    expect(entries(reposDir)).toEqual([]) // no clone dir, no scratch dir
    expect(await w.json(['task', 'list', '--all'])).toEqual([])
    expect(entries(join(w.t.makimaHome, 'worktrees'))).toEqual([])
    expect(w.api.calls).toHaveLength(0)
  })

  test("credentials in a repository URL never reach the output (git's message included)", async () => {
    const w = await repoWorld(steps({text: 'ok'}))
    const net = await import('node:net')
    const closed = net.createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', () => resolve()))
    const {port} = closed.address() as {port: number}
    await new Promise((resolve) => closed.close(resolve)) // nothing listens there now: git fails at once
    const r = await w.makima(['task', 'spawn', '--detach', '--json', '--repo', `http://robot:s3cr3t-t0ken@127.0.0.1:${port}/app.git`, 'never runs'])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toContain(`could not clone http://***@127.0.0.1:${port}/app.git`)
    expect(r.stdout + r.stderr).not.toContain('s3cr3t-t0ken')
    expect(await w.json(['task', 'list', '--all'])).toEqual([])
  })

  test.each([
    ['--repo=-uhttps://example.com/x', '-uhttps://example.com/x'],
    ['--repo=git@-oProxyCommand=touch%20pwned:x', 'git@-oProxyCommand=touch%20pwned:x'],
    ['--repo=https://example.com/a b', 'https://example.com/a b'],
    ['--repo=new://../escape', 'new://../escape'],
    ['--repo=new://a/b', 'new://a/b'],
  ])('refuses %s with exit 2 naming the value; nothing recorded or created', async (flag, value) => {
    const w = await repoWorld(steps({text: 'ok'}))
    const r = await w.makima(['task', 'create', flag, 'never recorded'])
    expect(r.code, r.stderr).toBe(2)
    expect(r.stderr).toContain(value)
    expect(await w.json(['task', 'list', '--all'])).toEqual([])
    expect(entries(join(w.t.makimaHome, 'repos')).filter((e) => e !== 'new')).toEqual([])
    expect(entries(join(w.t.makimaHome, 'repos', 'new'))).toEqual([])
    expect(existsSync(join(w.t.root, 'pwned'))).toBe(false)
  })
})

describe('--repo new://<name>', () => {
  test('makes a repository with an initial commit on main, runs the task in it, and reuses it', async () => {
    const w = await repoWorld(steps({bash: 'echo made-in-new > new-file.txt'}, {text: 'ok'}))
    const r = await w.makima(['task', 'spawn', '--json', '--repo', 'new://demo', 'work in a fresh repository'])
    expect(r.code, r.stderr).toBe(0)
    const task = JSON.parse(r.stdout)
    const demo = join(w.t.makimaHome, 'repos', 'new', 'demo')
    const initial = git(demo, 'rev-parse', 'main')
    expect(git(demo, 'rev-list', '--count', 'main')).toBe('1')
    expect(git(demo, 'log', '-1', '--format=%s', 'main')).toBe('Initial commit')
    expect(task).toMatchObject({state: 'completed', repoSource: 'new://demo', baseBranch: 'main', baseSha: initial})
    expect(git(task.worktreePath, 'rev-parse', '--git-common-dir')).toBe(join(demo, '.git'))
    expect(existsSync(join(task.worktreePath, 'new-file.txt'))).toBe(true)

    const again = (await w.makima(['task', 'create', '--repo', 'new://demo', 'second task'])).stdout.trim()
    expect((await w.json(['task', 'show', again])).baseBranch).toBe('main')
    expect(entries(join(w.t.makimaHome, 'repos', 'new'))).toEqual(['demo'])
    expect(git(demo, 'rev-parse', 'main')).toBe(initial) // the same repository, not a new one
  })
})

describe('git identity', () => {
  test('a task can commit in a repository when no identity is configured anywhere', async () => {
    const w = await repoWorld(steps({bash: 'echo committed > c.txt && git add -A && git commit -q -m x && echo COMMIT-OK'}, {text: 'ok'}), {
      extra: {EMAIL: undefined, GIT_AUTHOR_NAME: undefined, GIT_AUTHOR_EMAIL: undefined, GIT_COMMITTER_NAME: undefined, GIT_COMMITTER_EMAIL: undefined},
      // The test env's ~/.gitconfig has an identity: replace it with one without user.*.
      prepare: (t) => writeFileSync(join(t.home, '.gitconfig'), '[init]\n\tdefaultBranch = main\n'),
    })
    const plainGit = (...args: string[]) => gitWithEnv(w.t.env, w.repo.dir, ...args)
    expect(() => plainGit('config', '--get', 'user.email')).toThrow() // really none anywhere
    const r = await w.makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'commit something'])
    expect(r.code, r.stderr).toBe(0)
    const task = JSON.parse(r.stdout)
    expect(w.api.calls.flatMap((c) => c.toolResults.map((t) => t.content)).join('\n')).toContain('COMMIT-OK')
    expect(plainGit('rev-list', '--count', `${task.baseSha}..${task.branch}`)).toBe('1')
    expect(plainGit('log', '-1', '--format=%an <%ae>', task.branch)).toBe('makima <makima@localhost>')
  })

  test('an identity configured globally is used as it is (nothing written to the repository)', async () => {
    const w = await repoWorld(steps({bash: 'echo c > c.txt && git add -A && git commit -q -m x'}, {text: 'ok'}))
    const task = JSON.parse((await w.makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'commit with the global identity'])).stdout)
    expect(task.state).toBe('completed')
    expect(gitWithEnv(w.t.env, w.repo.dir, 'log', '-1', '--format=%an <%ae>', task.branch)).toBe('makima test <test@makima.invalid>')
    expect(() => git(w.repo.dir, 'config', '--local', '--get', 'user.name')).toThrow()
  })
})
