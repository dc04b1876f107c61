// A small Dockerfile reader for tests: instructions per stage, with line continuations joined,
// comments dropped, and ARG defaults (global and per stage) expanded in each stage's instructions.
// Enough for the project's own Dockerfile; not a full implementation of the format.

export interface Instruction {
  /** Upper case: FROM, RUN, COPY, ENV, ... */
  keyword: string
  /** The rest of the line, ${VAR} / $VAR expanded from the ARG defaults in scope. */
  args: string
  /** 1-based line of the instruction's first line. */
  line: number
}

export interface Stage {
  /** The FROM image (expanded). */
  image: string
  /** `AS name`, when given. */
  name?: string
  instructions: Instruction[]
}

export interface Dockerfile {
  stages: Stage[]
  /** The comment lines (without '#'), for what the file documents (e.g. its build command). */
  comments: string[]
}

function expand(text: string, vars: Map<string, string>): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, a: string | undefined, b: string | undefined) => vars.get((a ?? b)!) ?? whole)
}

function unquote(value: string): string {
  return /^".*"$|^'.*'$/.test(value) ? value.slice(1, -1) : value
}

export function parseDockerfile(text: string): Dockerfile {
  const comments: string[] = []
  const raw: Array<{keyword: string; args: string; line: number}> = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const trimmed = lines[i]!.trim()
    if (trimmed === '') continue
    if (trimmed.startsWith('#')) {
      comments.push(trimmed.slice(1).trim())
      continue
    }
    const start = i
    let joined = trimmed
    // a trailing backslash continues the instruction; comment lines inside it are skipped
    while (joined.endsWith('\\') && i + 1 < lines.length) {
      joined = joined.slice(0, -1)
      i++
      const next = lines[i]!.trim()
      if (!next.startsWith('#')) joined += ` ${next}`
    }
    const match = /^(\S+)\s*(.*)$/.exec(joined)!
    raw.push({keyword: match[1]!.toUpperCase(), args: match[2]!.replace(/\s+/g, ' ').trim(), line: start + 1})
  }

  const globalArgs = new Map<string, string>()
  const stages: Stage[] = []
  let scope = globalArgs
  for (const r of raw) {
    if (r.keyword === 'FROM') {
      const [image, as, name] = expand(r.args, globalArgs).split(' ')
      stages.push({image: image!, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: []})
      scope = new Map(globalArgs)
      continue
    }
    if (r.keyword === 'ARG') {
      const [key, ...value] = r.args.split('=')
      if (value.length > 0) scope.set(key!, unquote(expand(value.join('='), scope)))
    }
    const stage = stages.at(-1)
    if (stage) stage.instructions.push({keyword: r.keyword, args: expand(r.args, scope), line: r.line})
  }
  return {stages, comments}
}

/** A JSON-array (exec form) or shell-form argument list of CMD / ENTRYPOINT / VOLUME. */
export function execForm(args: string): string[] {
  const trimmed = args.trim()
  if (trimmed.startsWith('[')) return JSON.parse(trimmed) as string[]
  return trimmed.split(' ')
}

/** ENV instructions of a stage as a map (`ENV A=1 B="x y"` and the old `ENV A 1` form). */
export function envOf(stage: Stage): Map<string, string> {
  const env = new Map<string, string>()
  for (const ins of stage.instructions.filter((i) => i.keyword === 'ENV')) {
    if (!ins.args.includes('=')) {
      const [key, ...value] = ins.args.split(' ')
      env.set(key!, value.join(' '))
      continue
    }
    for (const m of ins.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\S*)/g)) env.set(m[1]!, unquote(m[2]!))
  }
  return env
}

/** The last instruction with this keyword in a stage (what takes effect for CMD, ENTRYPOINT, USER). */
export function last(stage: Stage, keyword: string): Instruction | undefined {
  return stage.instructions.filter((i) => i.keyword === keyword).at(-1)
}
