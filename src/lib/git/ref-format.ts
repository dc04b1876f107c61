import {MakimaError} from '../errors.js'

/**
 * The one rule for every ref given from outside: CLI flags (`--base-branch`, `--target-branch`,
 * `merge start <branch>`, `checkpoint restore --branch`, …) and every protocol field
 * (`baseBranch`, `targetBranch`, `sourceBranch`, `branchName`, `fromRef`). Checked without
 * running git; stricter than git where the two differ (docs/refs.md).
 *
 * A branch NAME (what a new or existing branch is called) follows `git check-ref-format
 * --branch` and also refuses:
 * - a leading `-` (it would be read as an option),
 * - `@` and `HEAD`: git's names of the current commit, not branch names (git itself refuses
 *   `git branch @`; `check-ref-format --branch @` accepting it was the one hole),
 * - more than MAX_REF_BYTES bytes (a ref is a file in `.git/refs`; 1 MB names failed later with E2BIG).
 *
 * A REVISION (`fromRef`: where something starts) is a branch name as above, or `HEAD`, or `@`
 * (its shorthand), or a commit sha of 4 to 64 hex digits. Nothing else (`main~1`, `v1^{}`,
 * `@{-1}`): the fields are names, not git's revision language.
 */
export const MAX_REF_BYTES = 255

/** A value for a message: quoted, cut when long (a 1 MB name is not echoed whole). */
export function quoted(value: string, max = 120): string {
  return value.length > max ? `${JSON.stringify(value.slice(0, max))}… (${value.length} characters)` : JSON.stringify(value)
}

/** What is wrong with `name` as a branch name, or undefined when git and makima accept it. */
export function branchNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty'
  if (Buffer.byteLength(name) > MAX_REF_BYTES) return `it is longer than ${MAX_REF_BYTES} bytes`
  if (name.startsWith('-')) return 'it may not start with "-"'
  if (name === '@' || name === 'HEAD') return `"${name}" names the current commit, not a branch`
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(name)) return 'it contains a space, a control character or one of ~ ^ : ? * [ \\'
  if (name.includes('..')) return 'it contains ".."'
  if (name.includes('@{')) return 'it contains "@{"'
  if (name.includes('//') || name.startsWith('/') || name.endsWith('/')) return 'it has an empty path component'
  if (name.endsWith('.')) return 'it ends with "."'
  for (const part of name.split('/')) {
    if (part.startsWith('.')) return 'a path component starts with "."'
    if (part.endsWith('.lock')) return 'a path component ends with ".lock"'
  }
  return undefined
}

/** What is wrong with `rev` as a revision (a branch name, HEAD, @ or a commit sha), or undefined. */
export function revisionProblem(rev: string): string | undefined {
  if (rev === 'HEAD' || rev === '@' || /^[0-9a-f]{4,64}$/i.test(rev)) return undefined
  const problem = branchNameProblem(rev)
  return problem && `${problem} (a revision is a branch name, HEAD, @ or a commit sha)`
}

/** `name` when it is a valid branch name; else INVALID_INPUT "invalid <what> "<name>": <why>". */
export function validateBranchName(name: string, what = 'branch name'): string {
  if (typeof name !== 'string') throw new MakimaError('INVALID_INPUT', `${what} is missing`)
  const problem = branchNameProblem(name)
  if (problem) throw new MakimaError('INVALID_INPUT', `invalid ${what} ${quoted(name)}: ${problem}`)
  return name
}

/** `rev` when it is a valid revision (revisionProblem); else INVALID_INPUT naming it. */
export function validateRevision(rev: string, what = 'ref'): string {
  if (typeof rev !== 'string') throw new MakimaError('INVALID_INPUT', `${what} is missing`)
  const problem = revisionProblem(rev)
  if (problem) throw new MakimaError('INVALID_INPUT', `invalid ${what} ${quoted(rev)}: ${problem}`)
  return rev
}
