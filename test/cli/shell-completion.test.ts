// Shell completion (@oclif/plugin-autocomplete): the built CLI writes the bash completion
// function into oclif's cache dir (inside the test's own HOME/XDG_CACHE_HOME) and prints the line
// to put in ~/.bashrc; a real bash sources that line and completes makima's commands and flags.
import {spawnSync} from 'node:child_process'
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {beforeAll, describe, expect, it} from 'vitest'

import {runCli, useCleanup} from '../support/cli.js'
import {testEnv, type TestEnv} from '../support/env.js'

useCleanup({scope: 'all'})

let t: TestEnv
let setupLine: string

beforeAll(async () => {
  t = testEnv()
  const instructions = await runCli(['autocomplete', 'bash'], {env: t.env})
  expect(instructions.code, instructions.stderr).toBe(0)
  expect(instructions.stdout).toContain('makima autocomplete script bash')
  const script = await runCli(['autocomplete', 'script', 'bash'], {env: t.env})
  expect(script.code, script.stderr).toBe(0)
  setupLine = script.stdout.trim()
})

/** What bash offers for `words` (the last one is the word being completed), with the setup line sourced. */
function complete(...words: string[]): string[] {
  const quoted = words.map((w) => `'${w}'`).join(' ')
  const program = `${setupLine}\nCOMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _makima_autocomplete; printf '%s\\n' "\${COMPREPLY[@]}"`
  const result = spawnSync('bash', ['--norc', '--noprofile', '-c', program], {env: t.env, encoding: 'utf8', timeout: 10_000})
  expect(result.status, result.stderr).toBe(0)
  return result.stdout.split('\n').filter(Boolean)
}

describe('makima autocomplete (bash)', () => {
  it("writes its cache under the environment's XDG_CACHE_HOME, not the user's home", () => {
    const cache = join(t.env.XDG_CACHE_HOME!, 'makima', 'autocomplete')
    expect(setupLine).toContain(join(cache, 'bash_setup'))
    expect(setupLine.startsWith('MAKIMA_AC_BASH_SETUP_PATH=')).toBe(true)
    const fn = join(cache, 'functions', 'bash', 'makima.bash')
    expect(existsSync(fn)).toBe(true)
    expect(readFileSync(fn, 'utf8')).toMatch(/^task:spawn .*--detach/m)
    expect(readFileSync(fn, 'utf8')).toMatch(/^merge:start /m)
  })

  it("completes makima's topics, their commands and a command's flags in a real bash", () => {
    expect(complete('makima', '')).toEqual(expect.arrayContaining(['task', 'merge', 'checkpoint', 'daemon', 'doctor', 'config', 'auth', 'autocomplete']))
    expect(complete('makima', 'task', 'sp')).toEqual(['spawn'])
    expect(complete('makima', 'merge', 'st')).toEqual(expect.arrayContaining(['start', 'status']))
    expect(complete('makima', 'task', 'spawn', '--det')).toEqual(['--detach'])
    // the hidden runner command is not offered
    expect(complete('makima', 'task', '')).not.toContain('run')
  })

  it('shows up in `makima --help`', async () => {
    const help = await runCli(['--help'], {env: t.env})
    expect(help.code, help.stderr).toBe(0)
    expect(help.stdout).toMatch(/^\s+autocomplete\s+\S/m)
  })
})
