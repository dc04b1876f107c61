#!/usr/bin/env node
// Bundles the compiled CLI for start-up speed (docs/design.md, "Start-up cost"). Part of
// `npm run build`, after tsc (which type-checks and writes dist/) and before `oclif manifest`.
//
// esbuild writes dist/bundle/ from the TypeScript sources:
//   cli.js       `execute` of @oclif/core; bin/run.js imports it
//   commands.js  COMMANDS: every command class by id ('task:list', 'config:get', ...), the
//                target of oclif's `explicit` command discovery (package.json oclif.commands)
//   chunks/      what the two share (@oclif/core, the base commands) and one lazy chunk per
//                dynamic import(), so a command loads only what it imports at top level.
// @oclif/core is bundled (one module instead of ~100 CommonJS files); makima's runtime
// dependencies (native modules, execa, conf, ...) stay in node_modules and load when imported.
import {readdirSync, readFileSync, rmSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {build} from 'esbuild'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const SRC = path.join(ROOT, 'src')
const OUT = path.join(ROOT, 'dist', 'bundle')
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'))

/** src/commands/task/list.ts -> ['task:list', './task/list.js'] for every command file, sorted by id. */
function commandFiles() {
  const dir = path.join(SRC, 'commands')
  const found = []
  const walk = (rel) => {
    for (const entry of readdirSync(path.join(dir, rel), {withFileTypes: true})) {
      const child = rel ? `${rel}/${entry.name}` : entry.name
      if (entry.isDirectory()) walk(child)
      else if (/\.ts$/.test(entry.name) && !/\.d\.ts$/.test(entry.name)) {
        const noExt = child.replace(/\.ts$/, '')
        const id = noExt
          .split('/')
          .filter((part) => part !== 'index')
          .join(':')
        found.push([id, `./${noExt}.js`])
      }
    }
  }
  walk('')
  const odd = found.filter(([id]) => !/^[a-z0-9][a-z0-9:-]*$/.test(id))
  if (odd.length > 0) {
    // plainSortInOclif below relies on ids being lowercase ASCII
    fail(`command ids must be lowercase letters, digits, '-' and ':': ${odd.map(([id]) => id).join(', ')}`)
  }
  return found.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

function fail(message) {
  process.stderr.write(`build: ${message}\n`)
  process.exit(1)
}

function commandsModule() {
  const files = commandFiles()
  const imports = files.map(([, file], i) => `import C${i} from ${JSON.stringify(file)}`)
  const entries = files.map(([id], i) => `  ${JSON.stringify(id)}: C${i},`)
  return `${imports.join('\n')}\nexport const COMMANDS = {\n${entries.join('\n')}\n}\n`
}

/**
 * Bundled modules are not where tsc puts them (dist/bundle/chunks/ instead of dist/lib/...), so
 * a path computed from a module's own URL points elsewhere: src/lib/package-root.ts is the one place
 * that may do that. createRequire(import.meta.url) is fine (it only resolves packages).
 */
function checkModuleRelativePaths() {
  const problems = []
  const walk = (dir) => {
    for (const entry of readdirSync(dir, {withFileTypes: true})) {
      const file = path.join(dir, entry.name)
      if (entry.isDirectory()) walk(file)
      else if (entry.name.endsWith('.ts') && file !== path.join(SRC, 'lib', 'package-root.ts')) {
        readFileSync(file, 'utf8')
          .split('\n')
          .forEach((line, i) => {
            if (/import\.meta\.(url|dirname|filename)/.test(line) && !/createRequire\(import\.meta\.url\)/.test(line)) {
              problems.push(`${path.relative(ROOT, file)}:${i + 1}: ${line.trim()}`)
            }
          })
      }
    }
  }
  walk(SRC)
  if (problems.length > 0) {
    fail(`paths relative to a module's own file break in the bundle (dist/bundle/); use packageRoot() or cliEntry() from src/lib/package-root.ts:\n${problems.map((p) => `  ${p}`).join('\n')}`)
  }
}

/**
 * oclif's index.js checks the Node version against its own package.json, which it looks for
 * next to __dirname: inside the bundle there is no such file and the check gives up, after
 * loading semver (~10-20 ms of regex building at start-up). It gets a stub instead.
 */
const skipOclifEngineCheck = {
  name: 'skip-oclif-engine-check',
  setup(b) {
    b.onResolve({filter: /^semver$/}, (args) => (/@oclif[\\/]core[\\/]lib[\\/]index\.js$/.test(args.importer) ? {path: 'semver', namespace: 'makima-stub'} : undefined))
    b.onLoad({filter: /.*/, namespace: 'makima-stub'}, () => ({contents: 'module.exports = {satisfies: () => true}\n', loader: 'js'}))
  },
}

/**
 * Modules oclif loads at start-up that cost time for nothing here; each loads on first use:
 * - tinyglobby (fdir, picomatch) serves only the `pattern` command discovery (makima: `explicit`);
 * - debug (tty, util, supports-color) prints only with DEBUG set;
 * - util/os.js imports wsl-utils (child_process, fs/promises, powershell-utils) to ask is-wsl
 *   whether this is WSL, and child_process for a Windows-only execSync: is-wsl alone answers.
 * - minimatch (plugin-loader.js) matches the names in package.json oclif.plugins, which are plain.
 * `from` is the oclif file that imports `spec`; `contents` replaces the import (same exports).
 */
const LAZY = [
  {spec: 'tinyglobby', from: /lib[\\/]config[\\/]plugin\.js$/, contents: `module.exports = {glob: (...a) => import('tinyglobby').then((m) => m.glob(...a))}\n`},
  {
    spec: 'debug',
    from: /lib[\\/]logger\.js$/,
    contents: `function off(namespace) {
  const d = () => {}
  d.namespace = namespace
  d.enabled = false
  d.extend = (sub, delimiter = ':') => off(namespace + delimiter + sub)
  return d
}
off.enabled = () => false
module.exports = process.env.DEBUG ? require('debug') : off
`,
  },
  {
    spec: 'wsl-utils',
    from: /lib[\\/]util[\\/]os\.js$/,
    contents: `export {default as isWsl} from 'is-wsl'\nexport const powerShellPath = async (...a) => (await import('wsl-utils')).powerShellPath(...a)\n`,
  },
  {spec: 'node:child_process', from: /lib[\\/]util[\\/]os\.js$/, contents: `module.exports = {execSync: (...a) => require('node:child_process').execSync(...a)}\n`},
  // minimatch matches package.json oclif.plugins (plain names here) against the dependencies;
  // its first use compiles each pattern (~5 ms with @oclif/plugin-autocomplete). A name with no
  // glob characters matches itself only.
  {
    spec: 'minimatch',
    from: /lib[\\/]config[\\/]plugin-loader\.js$/,
    contents: `module.exports = {minimatch: (name, pattern, options) => (/^[\\w@/.-]+$/.test(pattern) ? name === pattern : require('minimatch').minimatch(name, pattern, options))}\n`,
  },
]
const lazyOclifDeps = {
  name: 'lazy-oclif-deps',
  setup(b) {
    const inOclif = /@oclif[\\/]core[\\/]lib[\\/]/
    const used = new Set()
    b.onEnd(() => {
      for (const [i, l] of LAZY.entries()) {
        if (!used.has(i)) process.stderr.write(`build: warning: oclif no longer imports ${l.spec} from ${l.from}; lazy-oclif-deps has nothing to do for it\n`)
      }
    })
    b.onResolve({filter: new RegExp(`^(${LAZY.map((l) => l.spec).join('|')})$`)}, (args) => {
      if (args.namespace !== 'file' || !inOclif.test(args.importer)) return undefined
      const index = LAZY.findIndex((l) => l.spec === args.path && l.from.test(args.importer))
      if (index < 0) return undefined
      used.add(index)
      return {path: args.path, namespace: 'makima-lazy', pluginData: {index, resolveDir: path.dirname(args.importer)}}
    })
    b.onLoad({filter: /.*/, namespace: 'makima-lazy'}, (args) => ({
      contents: LAZY[args.pluginData.index].contents,
      resolveDir: args.pluginData.resolveDir,
      loader: 'js',
    }))
  },
}

/**
 * oclif sorts the manifest's commands with localeCompare when it loads, on every run; the first
 * localeCompare of a process sets up an ICU collator (~13 ms here). Command ids are lowercase
 * ASCII (letters, digits, '-', ':'; commandFiles() checks), which a plain code-unit comparison
 * orders the same way.
 */
const OCLIF_SORT = '.sort((a, b) => a.id.localeCompare(b.id))'
const plainSortInOclif = {
  name: 'plain-sort-in-oclif',
  setup(b) {
    b.onLoad({filter: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/}, (args) => {
      const source = readFileSync(args.path, 'utf8')
      if (!source.includes(OCLIF_SORT)) {
        return {contents: source, loader: 'js', warnings: [{text: 'oclif plugin.js changed: its command sort is left as is (start-up costs ~13 ms more)'}]}
      }
      return {contents: source.replace(OCLIF_SORT, '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))'), loader: 'js'}
    })
  },
}

/** The two entry points exist only here (no generated files in src/). */
const entries = {
  name: 'makima-entries',
  setup(b) {
    b.onResolve({filter: /^makima-entry:/}, (args) => ({path: args.path.slice('makima-entry:'.length), namespace: 'makima-entry'}))
    b.onLoad({filter: /.*/, namespace: 'makima-entry'}, (args) => {
      if (args.path === 'cli') return {contents: `export {execute} from '@oclif/core'\n`, resolveDir: ROOT, loader: 'js'}
      if (args.path === 'commands') return {contents: commandsModule(), resolveDir: path.join(SRC, 'commands'), loader: 'ts'}
      return undefined
    })
  },
}

// Every runtime dependency but the CLI framework stays external, and so does the claude CLI.
// typescript, ts-node and tsx: oclif requires them only when it runs TypeScript sources (development).
const external = [...Object.keys(pkg.dependencies ?? {}).filter((name) => name !== '@oclif/core'), '@anthropic-ai/claude-code', 'typescript', 'ts-node', 'tsx', 'tsx/*']

/**
 * What every command loads before it runs: the two entry points and the chunks they import
 * statically. A package imported there (execa, zod, listr2, ...) would load on every run, even
 * for `--version`; import it inside the function that needs it (`await import('execa')`).
 */
function checkStartupImports(metafile) {
  const rel = (p) => path.relative(ROOT, path.resolve(ROOT, p))
  const queue = [path.join(OUT, 'cli.js'), path.join(OUT, 'commands.js')].map(rel)
  const seen = new Set(queue)
  const packages = new Set()
  while (queue.length > 0) {
    const file = queue.shift()
    const output = Object.entries(metafile.outputs).find(([p]) => rel(p) === file)?.[1]
    for (const imp of output?.imports ?? []) {
      if (imp.kind !== 'import-statement') continue
      if (imp.external) {
        if (!imp.path.startsWith('node:')) packages.add(imp.path)
      } else if (!seen.has(rel(imp.path))) {
        seen.add(rel(imp.path))
        queue.push(rel(imp.path))
      }
    }
  }
  if (packages.size > 0) {
    fail(`packages imported at module top level by code every command loads (src/commands/**, base commands): ${[...packages].join(', ')}; import them where they are used, with await import()`)
  }
}

checkModuleRelativePaths()
rmSync(OUT, {recursive: true, force: true})
const result = await build({
  absWorkingDir: ROOT,
  entryPoints: {cli: 'makima-entry:cli', commands: 'makima-entry:commands'},
  outdir: OUT,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external,
  plugins: [entries, skipOclifEngineCheck, lazyOclifDeps, plainSortInOclif],
  // The CommonJS inside @oclif/core calls require(); ESM output has none of its own.
  banner: {js: `import {createRequire as __makimaCreateRequire} from 'node:module';\nconst require = __makimaCreateRequire(import.meta.url);`},
  logLevel: 'warning',
  metafile: true,
})
checkStartupImports(result.metafile)
const outputs = Object.entries(result.metafile.outputs)
const total = outputs.reduce((sum, [, o]) => sum + o.bytes, 0)
process.stdout.write(`bundled ${commandFiles().length} commands into ${path.relative(ROOT, OUT)}/ (${outputs.length} files, ${(total / 1024).toFixed(0)} KiB)\n`)
