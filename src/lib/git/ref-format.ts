/**
 * git's branch-name rules (git-check-ref-format(1)) checked without running git, for validating
 * input at the edge (protocol frames). The library still asks git itself before using a name.
 */
export function branchNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'it is empty'
  if (name.startsWith('-')) return 'it may not start with "-"'
  if (name === '@') return 'it may not be "@"'
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
