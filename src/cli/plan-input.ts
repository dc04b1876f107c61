import {MakimaError} from '../lib/errors.js'

/** The plan argument: text, or "-" to read it from stdin. An empty plan is bad input. */
export async function readPlan(arg: string, stdin: NodeJS.ReadableStream & {isTTY?: boolean}): Promise<string> {
  let plan = arg
  if (arg === '-') {
    if (stdin.isTTY) process.stderr.write('Reading the plan from stdin (end with Ctrl-D)...\n')
    const chunks: Buffer[] = []
    for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer))
    plan = Buffer.concat(chunks).toString('utf8')
  }
  if (plan.trim().length === 0) throw new MakimaError('INVALID_INPUT', arg === '-' ? 'the plan read from stdin is empty' : 'the plan is empty: say what the task should do')
  return plan
}
