// `makima <command> --help` shows a summary and examples for every command a user can see. The
// help is rendered from oclif.manifest.json (written by `npm run build`), so that is what is read.
import {existsSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'

import {projectRoot} from '../support/env.js'

interface ManifestCommand {
  id: string
  hidden?: boolean
  summary?: string
  examples?: Array<string | {command: string; description?: string}>
}

const manifestPath = join(projectRoot, 'oclif.manifest.json')

function visibleCommands(): ManifestCommand[] {
  if (!existsSync(manifestPath)) throw new Error(`${manifestPath} is missing: run \`npm run build\` first`)
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as {commands: Record<string, ManifestCommand>}
  return Object.values(manifest.commands).filter((c) => !c.hidden)
}

/** An example as oclif's help prints it (its templates filled in), without the leading `$ `. */
function rendered(example: string | {command: string}, id: string): string {
  const text = typeof example === 'string' ? example : example.command
  return text.replaceAll('<%= config.bin %>', 'makima').replaceAll('<%= command.id %>', id.replaceAll(':', ' '))
}

describe('--help of every command', () => {
  const commands = visibleCommands()

  it('covers the command tree (the manifest is the built one)', () => {
    const ids = commands.map((c) => c.id)
    expect(ids).toEqual(expect.arrayContaining(['task:spawn', 'task:list', 'merge:start', 'daemon', 'doctor', 'config:set', 'checkpoint']))
  })

  it.each(commands.map((c) => [c.id, c] as const))('%s has a summary and examples that run it', (id, command) => {
    expect(command.summary?.trim(), `${id} has no summary`).toBeTruthy()
    expect(command.examples?.length ?? 0, `${id} has no examples`).toBeGreaterThan(0)
    // an example copied from another command, or with a template typo, would not run this one
    const invocation = new RegExp(`(^|[\\s(|;&])makima ${id.replaceAll(':', ' ')}(\\s|$)`)
    for (const example of command.examples ?? []) expect(rendered(example, id)).toMatch(invocation)
  })
})
