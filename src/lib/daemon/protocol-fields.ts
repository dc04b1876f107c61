import {z} from 'zod'

import {branchNameProblem, quoted, revisionProblem} from '../git/ref-format.js'

/**
 * The field types of the server -> daemon commands (protocol.ts), each bounded at the edge so an
 * oversize value is INVALID_FIELD naming the field, never a failure deep inside (git's argument
 * limit E2BIG, ENAMETOOLONG, a stack overflow on deep JSON) answered INTERNAL.
 */

/** Longest path (PATH_MAX) and longest path component (NAME_MAX), in bytes. */
export const MAX_PATH_BYTES = 4096
export const MAX_NAME_BYTES = 255
/** Longest one-line name (taskName, title): a person's words, not a document. */
export const MAX_LINE_BYTES = 1024
/** Longest text that becomes a git argument (a commit message): Linux refuses one argument over 128 KiB. */
export const MAX_ARG_TEXT_BYTES = 64 * 1024
/** Deepest nesting of free-form JSON (conversationHistory, context). */
export const MAX_JSON_DEPTH = 64

const bytes = (value: string) => Buffer.byteLength(value)

/** Optional: absent or null both mean absent. */
export const opt = <T extends z.ZodType>(schema: T) => schema.nullish().transform((v) => v ?? undefined)

export const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'must be a lowercase UUID')

/** Text of at most `max` bytes (may be empty). */
export const line = (max: number) =>
  z.string().superRefine((value, ctx) => {
    if (bytes(value) > max) ctx.addIssue({code: 'custom', message: `is ${bytes(value)} bytes long, over the ${max} bytes limit`})
  })

/** Text of at most `max` bytes that is not empty. */
export const text = (max: number) =>
  z
    .string()
    .min(1)
    .superRefine((value, ctx) => {
      if (bytes(value) > max) ctx.addIssue({code: 'custom', message: `is ${bytes(value)} bytes long, over the ${max} bytes limit`})
    })

/** A branch NAME (ref-format.ts branchNameProblem: git's rules, no "@", no "HEAD", at most 255 bytes). */
export const branch = z.string().superRefine((value, ctx) => {
  const problem = branchNameProblem(value)
  if (problem) ctx.addIssue({code: 'custom', message: `invalid branch name ${quoted(value)}: ${problem}`})
})

/** A revision (ref-format.ts revisionProblem): a branch name, HEAD, @ or a commit sha. */
export const revision = z.string().superRefine((value, ctx) => {
  const problem = revisionProblem(value)
  if (problem) ctx.addIssue({code: 'custom', message: `invalid ref ${quoted(value)}: ${problem}`})
})

/** What is wrong with a path's length (whole, or one component), or undefined. */
function pathLengthProblem(value: string): string | undefined {
  if (bytes(value) > MAX_PATH_BYTES) return `path ${quoted(value, 60)} is longer than ${MAX_PATH_BYTES} bytes`
  const long = value.split(/[\\/]/).find((part) => bytes(part) > MAX_NAME_BYTES)
  if (long !== undefined) return `path component ${quoted(long, 60)} is longer than ${MAX_NAME_BYTES} bytes`
  return undefined
}

/** A path relative to a root given by the command: no NUL, not absolute, no "..", bounded. */
export const relPath = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    const problem = value.includes('\0')
      ? 'contains a NUL byte'
      : (pathLengthProblem(value) ?? (value.startsWith('/') || value.split(/[\\/]/).includes('..') ? `path ${quoted(value)} escapes its root` : undefined))
    if (problem) ctx.addIssue({code: 'custom', message: problem})
  })

/**
 * A directory of this machine: absolute or starting with `~/` (`~` alone is the home directory).
 * A relative path would depend on the daemon's working directory. Where it may point is checked
 * by server-paths.ts (docs/protocol-paths.md).
 */
export const dir = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    const problem = value.includes('\0')
      ? 'contains a NUL byte'
      : (pathLengthProblem(value) ?? (value.startsWith('/') || value === '~' || value.startsWith('~/') ? undefined : `path ${quoted(value)} must be absolute or start with ~/`))
    if (problem) ctx.addIssue({code: 'custom', message: problem})
  })

/** A repository source (a path, a URL or new://<name>): no NUL, at most MAX_PATH_BYTES. */
export const source = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    const problem = value.includes('\0') ? 'contains a NUL byte' : bytes(value) > MAX_PATH_BYTES ? `is longer than ${MAX_PATH_BYTES} bytes` : undefined
    if (problem) ctx.addIssue({code: 'custom', message: problem})
  })

/**
 * How deep a JSON value nests (a scalar is 0), counted without recursion (a value nested a
 * million levels deep would overflow the stack of a recursive walk, or of JSON.stringify later),
 * stopping as soon as `limit` is passed.
 */
export function jsonDepthOver(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!
    if (typeof current !== 'object' || current === null) continue
    if (depth + 1 > limit) return true
    for (const child of Array.isArray(current) ? current : Object.values(current)) stack.push([child, depth + 1])
  }
  return false
}

/** Any JSON value nested at most MAX_JSON_DEPTH levels. */
export const shallowJson = z.unknown().superRefine((value, ctx) => {
  if (jsonDepthOver(value, MAX_JSON_DEPTH)) ctx.addIssue({code: 'custom', message: `nests deeper than ${MAX_JSON_DEPTH} levels`})
})
