import {Flags} from '@oclif/core'

import {MakimaCommand} from '../cli/base-command.js'

export default class Doctor extends MakimaCommand {
  static override summary = 'Check that makima can work here: Node, git, Claude Code, gh, MAKIMA_HOME, the database, the server'
  static override description =
    'Each line is ok, warn or fail with how to fix it. Exit 1 when anything fails. Network checks give up after 3 s, so doctor never hangs offline. --repair moves a damaged database aside (to makima.db.corrupt-<time>, where the task history stays) and starts a fresh one.'
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json | jq ".[] | select(.status != \\"ok\\")"', '<%= config.bin %> doctor --repair']
  static override flags = {
    repair: Flags.boolean({description: 'move a damaged database aside and start a fresh one, then check'}),
  }

  async run(): Promise<unknown> {
    const {flags} = await this.parse(Doctor)
    const config = this.makimaConfig()
    const {runChecks} = await import('../lib/doctor/checks.js')
    const repair = flags.repair ? await (await import('../lib/doctor/repair.js')).repairDatabase(config.localDb.path) : undefined
    const results = [...(repair ? [repair] : []), ...(await runChecks({config, env: process.env, nodeVersion: process.version}))]
    const failed = results.some((r) => r.status === 'fail')
    if (this.jsonEnabled()) this.logJson(results)
    else {
      const mark = {ok: 'ok  ', warn: 'warn', fail: 'FAIL'}
      for (const r of results) this.say(`${mark[r.status]}  ${r.check.padEnd(9)} ${r.detail}${r.fix && r.status !== 'ok' ? `\n                 fix: ${r.fix}` : ''}`)
    }
    if (failed) this.exit(1)
    return undefined
  }

  /** The home check reports an open MAKIMA_HOME, with its fix. */
  protected override warnAboutOpenHome(): void {}
}
