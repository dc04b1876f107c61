// The scripted Anthropic Messages API of the test suite (test/support/scripted-api.ts) for plain
// Node (the bench, the recorders in scripts/): compiled with esbuild (a devDependency) into `dir`.
import path from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** The module test/support/scripted-api.ts as plain JS: {startScriptedApi, steps, byPrompt, rateLimitHeaders, ...}. */
export async function loadScriptedApi(dir) {
  const {build} = await import('esbuild')
  const outfile = path.join(dir, 'scripted-api.mjs')
  await build({entryPoints: [path.join(ROOT, 'test', 'support', 'scripted-api.ts')], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error'})
  return import(pathToFileURL(outfile).href)
}
