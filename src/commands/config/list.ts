import {MakimaCommand} from '../../cli/base-command.js'
import {resolveHome} from '../../lib/config/load.js'
import {type ConfigEntry, formatConfigValue, listConfigEntries} from '../../lib/config/store-file.js'

export default class ConfigList extends MakimaCommand {
  static override summary = 'List every config key with its effective value and where it comes from'
  static override description = 'SOURCE is env, file ($MAKIMA_HOME/config.json) or default; ENV is the environment variable that overrides the key. Secrets are masked.'

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<ConfigEntry[]> {
    await this.parse(ConfigList)
    const entries = listConfigEntries(resolveHome(process.env), process.env)
    if (!this.jsonEnabled()) {
      const rows = [['KEY', 'VALUE', 'SOURCE', 'ENV'], ...entries.map((e) => [e.key, e.value === null ? '-' : formatConfigValue(e.value), e.source, e.env ?? '-'])]
      const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)))
      for (const row of rows) this.say(row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]))).join('  '))
    }
    return entries
  }
}
