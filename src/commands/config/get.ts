import {MakimaCommand} from '../../cli/base-command.js'
import {configKeyArg} from '../../cli/config-args.js'
import {resolveHome} from '../../lib/config/load.js'
import {formatConfigValue, getConfigEntry} from '../../lib/config/store-file.js'

export default class ConfigGet extends MakimaCommand {
  static override summary = 'Print the effective value of a config key'
  static override description = 'Prints the value makima uses for <key>: environment variable > config.json > default. Secrets (server.apiKey) are masked.'

  static override examples = ['<%= config.bin %> <%= command.id %> process.maxConcurrentTasks', '<%= config.bin %> <%= command.id %> server.url --json']

  static override args = {
    key: configKeyArg,
  }

  async run(): Promise<{key: string; value: unknown; source: string}> {
    const {args} = await this.parse(ConfigGet)
    const {key, value, source} = getConfigEntry(resolveHome(process.env), args.key, process.env)
    if (value === null) {
      if (!this.jsonEnabled()) this.note(`${key} is not set`)
    } else {
      this.say(formatConfigValue(value))
    }
    return {key, value, source}
  }
}
