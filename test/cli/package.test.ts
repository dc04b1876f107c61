// The published package: what `npm pack` puts in the tarball is a working CLI. The test packs the
// project (dist/ is fresh: the global setup checks it; --ignore-scripts, so prepack does not
// rebuild dist/ under the other test files), unpacks the tarball and runs it the way a global
// install does (prefix/bin/makima -> the package's bin/run.js), with the project's node_modules in
// place of the dependencies: a real `npm install -g <tarball>` compiles better-sqlite3 offline
// (minutes on the 2-core CI machine), too slow for the suite; so is `npm install -g <git URL>`
// (it installs every devDependency in its clone and compiles better-sqlite3 twice): a manual check,
// README "Install". What the suite checks of `prepare` is its answer where the build tools are missing.
import {execFileSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, readFileSync, symlinkSync} from 'node:fs'
import {delimiter, join} from 'node:path'
import {describe, expect, test} from 'vitest'

import {runProcess, useCleanup} from '../support/cli.js'
import {projectRoot, testEnv} from '../support/env.js'
import {steps} from '../support/scripted-api.js'
import {taskWorld} from '../support/task-helpers.js'

useCleanup()

const pkg = JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8'))

/** `npm pack` into `dir`: the tarball's path and the files npm listed. */
function pack(dir: string): {tarball: string; files: string[]} {
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {cwd: projectRoot, encoding: 'utf8'})
  const [info] = JSON.parse(out) as {filename: string; files: {path: string}[]}[]
  return {tarball: join(dir, info!.filename), files: info!.files.map((f) => f.path)}
}

describe('the npm package', () => {
  test('ships a working CLI: --version, doctor and a real task spawn from the unpacked tarball', async () => {
    const w = await taskWorld(steps({bash: 'echo packaged > packaged.txt'}, {text: 'Done from the packed CLI.'}))
    const {tarball, files} = pack(w.t.root)

    // package.json `files`: the CLI entry, the bundle and the oclif manifest; no sources or tests.
    for (const needed of ['package.json', 'bin/run.js', 'dist/bundle/cli.js', 'dist/bundle/commands.js', 'oclif.manifest.json']) {
      expect(files).toContain(needed)
    }
    expect(files.filter((f) => /^(src|test|bench|deploy|scripts|node_modules)\//.test(f))).toEqual([])
    expect(pkg.scripts.prepack).toMatch(/npm run build/)
    expect(pkg.scripts.prepare).toBeDefined()

    // A global install's layout: <prefix>/lib/node_modules/makima and <prefix>/bin/makima.
    const prefix = join(w.t.root, 'prefix')
    const installed = join(prefix, 'lib', 'node_modules')
    mkdirSync(installed, {recursive: true})
    mkdirSync(join(prefix, 'bin'))
    execFileSync('tar', ['xzf', tarball, '-C', installed])
    const root = join(installed, 'makima')
    execFileSync('mv', [join(installed, 'package'), root])
    symlinkSync(join(projectRoot, 'node_modules'), join(root, 'node_modules'))
    symlinkSync(join(root, 'bin', 'run.js'), join(prefix, 'bin', 'makima'))
    const env = {...w.t.env, PATH: [join(prefix, 'bin'), w.t.env.PATH].join(delimiter)}
    const makima = (args: string[]) => runProcess('makima', args, {env, cwd: w.repo.dir, timeoutMs: 45_000})

    const version = await makima(['--version'])
    expect(version.code, version.stderr).toBe(0)
    expect(version.stdout).toContain(`makima/${pkg.version}`)

    const doctor = await makima(['doctor', '--json'])
    const checks = Object.fromEntries((JSON.parse(doctor.stdout) as {check: string; status: string}[]).map((c) => [c.check, c.status]))
    expect(checks).toMatchObject({git: 'ok', claude: 'ok', home: 'ok', database: 'ok'})

    const spawn = await makima(['task', 'spawn', '--json', '--repo', w.repo.dir, 'write packaged.txt'])
    expect(spawn.code, spawn.stderr).toBe(0)
    const task = JSON.parse(spawn.stdout)
    expect(task).toMatchObject({state: 'completed', exitCode: 0})
    expect(readFileSync(join(task.worktreePath, 'packaged.txt'), 'utf8')).toBe('packaged\n')
    expect(spawn.stderr).toContain('Done from the packed CLI.')
  })

  test("prepare without the build tools, or in npm's global git-URL clone: says what to run; keeps a dist/ that is there", async () => {
    // A folder of the sources whose node_modules lacks the devDependencies (--omit=dev, NODE_ENV=production).
    const t = testEnv()
    const folder = join(t.root, 'makima')
    for (const entry of ['package.json', 'tsconfig.json', 'scripts', 'src', 'bin']) cpSync(join(projectRoot, entry), join(folder, entry), {recursive: true})
    mkdirSync(join(folder, 'node_modules'))
    const prepare = () => runProcess(process.execPath, [join(folder, 'scripts', 'prepare.mjs')], {env: t.env, cwd: folder, timeoutMs: 30_000})

    const bare = await prepare()
    expect(bare.code).toBe(1)
    expect(bare.stderr).toContain(`makima prepare: cannot build dist/ in ${folder}: the devDependencies typescript, esbuild, oclif are not installed there`)
    expect(bare.stderr).toContain(`Run \`npm ci\` (or \`npm install --include=dev\`) in ${folder}`)
    expect(existsSync(join(folder, 'dist'))).toBe(false)

    // npm's clone of a git URL under `npm install -g` (npm/cli#8440): stopped at once, saying what works.
    const clone = join(t.root, 'git-clone1AbCdE')
    cpSync(folder, clone, {recursive: true})
    const global = await runProcess(process.execPath, [join(clone, 'scripts', 'prepare.mjs')], {env: {...t.env, npm_config_global: 'true'}, cwd: clone, timeoutMs: 30_000})
    expect(global.code).toBe(1)
    expect(global.stderr).toContain('`npm install -g <git URL>` does not work with npm (it prepares the clone in global mode: npm/cli#8440)')
    expect(global.stderr).toContain('`npm pack <git URL>` (it builds), then `npm install -g ./makima-<version>.tgz`')

    cpSync(join(projectRoot, 'dist'), join(folder, 'dist'), {recursive: true})
    const built = await prepare()
    expect(built.code, built.stderr).toBe(0)
    expect(built.stdout).toContain('keeping the dist/ that is there')
    expect(existsSync(join(folder, 'dist', 'bundle', 'cli.js'))).toBe(true)
  })
})
