import {git} from './git-runner.js'

export type FileAction = 'added' | 'modified' | 'deleted' | 'renamed'

export interface FileChange {
  action: FileAction
  path: string
}

export interface Changes {
  filesChanged: FileChange[]
  linesAdded: number
  linesRemoved: number
}

/** git's empty tree: the "parent" of a root commit. */
export const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904'

const ACTIONS: Record<string, FileAction> = {A: 'added', C: 'added', M: 'modified', T: 'modified', D: 'deleted', R: 'renamed'}

/**
 * What changed between two trees or commits (shas, never user input): each file with its action
 * (renames detected; the path is the new one) and the lines added and removed (binary files
 * count no lines). Plumbing with -z, so no user setting and no odd file name changes the result.
 */
export async function changesBetween(cwd: string, from: string, to: string): Promise<Changes> {
  const base = ['diff-tree', '-r', '-z', '-M', '--no-color', '--no-ext-diff', '--no-textconv']
  const [status, numstat] = await Promise.all([git([...base, '--name-status', from, to], {cwd}), git([...base, '--numstat', from, to], {cwd})])
  const filesChanged: FileChange[] = []
  const fields = status.stdout.split('\0')
  for (let i = 0; i < fields.length - 1;) {
    const code = fields[i++]
    const letter = code.charAt(0)
    if (letter === 'R' || letter === 'C') {
      i++ // the old path
      filesChanged.push({action: ACTIONS[letter], path: fields[i++]})
    } else if (letter) {
      filesChanged.push({action: ACTIONS[letter] ?? 'modified', path: fields[i++]})
    }
  }
  let linesAdded = 0
  let linesRemoved = 0
  const stats = numstat.stdout.split('\0')
  for (let i = 0; i < stats.length - 1; i++) {
    const match = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(stats[i])
    if (!match) continue
    if (match[1] !== '-') linesAdded += Number(match[1])
    if (match[2] !== '-') linesRemoved += Number(match[2])
    if (match[3] === '') i += 2 // a rename: old and new path follow as fields of their own
  }
  return {filesChanged, linesAdded, linesRemoved}
}

/** The parent of a commit, or the empty tree for a root commit. */
export async function parentOrEmpty(cwd: string, commit: string): Promise<string> {
  const result = await git(['rev-parse', '--verify', '--quiet', `${commit}^`], {cwd, allowFailure: true})
  return result.exitCode === 0 ? result.stdout.trim() : EMPTY_TREE
}

/** How many files differ between two commits (shas, never user input; renames count as delete and add). */
export async function changedPathCount(cwd: string, from: string, to: string): Promise<number> {
  const names = (await git(['diff-tree', '-r', '-z', '--name-only', '--no-renames', from, to], {cwd})).stdout
  return names.split('\0').filter(Boolean).length
}

/**
 * `git diff` from one commit or tree to another as people read it (and `git apply` takes):
 * binary files as `--binary` hunks with full object names, or with `stat` a diffstat instead. No
 * user setting (color, prefixes, external diff) changes it.
 */
export async function diffText(cwd: string, from: string, to: string, options: {stat?: boolean} = {}): Promise<string> {
  const shape = options.stat ? ['--stat'] : ['--binary', '--full-index']
  return (await git(['diff', ...shape, '--no-color', '--no-ext-diff', '--src-prefix=a/', '--dst-prefix=b/', from, to], {cwd})).stdout
}
