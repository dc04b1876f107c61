// examples/ci/github-actions.yml, its steps (not the Actions runner): each `run:` script with bash
// -eo pipefail (Actions' shell), its `env:` with the `${{ }}` expressions filled in, $GITHUB_ENV
// carried to the later steps, $GITHUB_STEP_SUMMARY a file. The install step is replaced by the
// built CLI on PATH (test/cli/package.test.ts checks the package). A temporary repository cloned
// from a bare origin, the real claude against the scripted API.
import {chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {delimiter, join} from 'node:path'
import {describe, expect, test} from 'vitest'
import {parse} from 'yaml'

import {binRun, runProcess, useCleanup} from '../support/cli.js'
import {projectRoot, testEnv} from '../support/env.js'
import {gitWithEnv, makeRepo} from '../support/git-fixtures.js'
import {startScriptedApi, steps} from '../support/scripted-api.js'

useCleanup()

interface Step {
  id?: string
  run?: string
  env?: Record<string, string>
}

const workflow = parse(readFileSync(join(projectRoot, 'examples', 'ci', 'github-actions.yml'), 'utf8'))
const recipeSteps: Step[] = workflow.jobs.task.steps

describe('the GitHub Actions recipe', () => {
  test('setup, task, push and markdown steps: exit codes, the step summary, task.json, the pushed branch', async () => {
    const api = await startScriptedApi(steps({bash: 'echo from-ci > ci.txt'}, {text: 'Wrote ci.txt from the workflow.'}))
    const t = testEnv({apiUrl: api.url})
    const repo = makeRepo(t.root, {env: t.env, bare: true})
    const bin = join(t.root, 'bin')
    mkdirSync(bin)
    writeFileSync(join(bin, 'makima'), `#!/bin/sh\nexec "${process.execPath}" "${binRun}" "$@"\n`)
    chmodSync(join(bin, 'makima'), 0o755)
    const githubEnv = join(t.root, 'github-env')
    const summary = join(t.root, 'step-summary.md')
    writeFileSync(githubEnv, '')
    const values: Record<string, string> = {
      'secrets.ANTHROPIC_API_KEY': t.env.ANTHROPIC_API_KEY!,
      'secrets.CLAUDE_CODE_OAUTH_TOKEN': '',
      'inputs.plan': 'write ci.txt',
      'inputs.action': 'branch',
      'github.token': 'unused-here',
    }
    const base: NodeJS.ProcessEnv = {...t.env, PATH: [bin, t.env.PATH].join(delimiter), GITHUB_ENV: githubEnv, GITHUB_STEP_SUMMARY: summary}
    delete base.ANTHROPIC_API_KEY // the setup step passes the secret on through $GITHUB_ENV

    const run = async (id: string) => {
      const step = recipeSteps.find((s) => s.id === id)!
      const fromGithubEnv = Object.fromEntries(
        readFileSync(githubEnv, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      )
      const stepEnv = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, v.replace(/\$\{\{\s*([\w.-]+)\s*\}\}/g, (_, e: string) => values[e] ?? '')]))
      // Async: the scripted API answers from this process.
      return runProcess('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', step.run!], {cwd: repo.dir, env: {...base, ...fromGithubEnv, ...stepEnv}, timeoutMs: 60_000})
    }

    expect(recipeSteps.map((s) => s.id ?? 'uses')).toEqual(['uses', 'uses', 'install', 'setup', 'task', 'push', 'markdown', 'uses'])
    const setup = await run('setup')
    expect(setup.code, setup.stderr + setup.stdout).toBe(0)
    expect(readFileSync(githubEnv, 'utf8')).toBe(`ANTHROPIC_API_KEY=${t.env.ANTHROPIC_API_KEY}\n`)

    const task = await run('task')
    expect(task.code, task.stderr).toBe(0)
    expect(task.stdout).toContain('Wrote ci.txt from the workflow.')
    const json = JSON.parse(readFileSync(join(repo.dir, 'makima-out', 'task.json'), 'utf8'))
    expect(json).toMatchObject({state: 'completed', completionAction: {action: 'branch', ok: true}})
    expect(readFileSync(join(repo.dir, 'makima-out', 'transcript.txt'), 'utf8')).toContain('Wrote ci.txt from the workflow.')
    expect(task.stderr.trimEnd().split('\n').at(-1)).toMatch(new RegExp(`^Task ${json.shortId} completed in .*branch ${json.branch}`))

    const push = await run('push')
    expect(push.code, push.stderr).toBe(0)
    expect(gitWithEnv(t.env, repo.remote!, 'show', `${json.branch}:ci.txt`)).toBe('from-ci')

    const markdown = await run('markdown')
    expect(markdown.code, markdown.stderr).toBe(0)
    expect(readFileSync(join(repo.dir, 'makima-out', 'transcript.md'), 'utf8')).toContain('<details><summary>Transcript</summary>')

    const md = readFileSync(summary, 'utf8')
    expect(md).toContain(`### makima task ${json.shortId}: completed`)
    expect(md).toContain('- `ci.txt`')
    expect(md).toContain(`pushed ${json.branch}`)
    expect(existsSync(join(repo.dir, 'makima-out', 'transcript.txt'))).toBe(true)
  })
})
