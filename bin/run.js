#!/usr/bin/env node
// The CLI framework and the commands come bundled from dist/bundle/ (scripts/build.mjs).
import {execute} from '../dist/bundle/cli.js'

await execute({dir: import.meta.url})
