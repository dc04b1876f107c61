import {MakimaCommand} from '../../cli/base-command.js'
import {configKeyArg} from '../../cli/config-args.js'
import {resolveHome} from '../../lib/config/load.js'
import {unsetConfigValue} from '../../lib/config/store-file.js'

export default class ConfigUnset extends MakimaCommand {
  static override summary = 'Remove a config key from $MAKIMA_HOME/config.json'
  static override description = 'The key goes back to its environment variable, if set, or its default.'

  static override examples = ['<%= config.bin %> <%= command.id %> process.maxConcurrentTasks']

  static override args = {
    key: configKeyArg,
  }

  async run(): Promise<{key: string; removed: boolean}> {
    const {args} = await this.parse(ConfigUnset)
    const result = await unsetConfigValue(resolveHome(process.env), args.key)
    this.say(result.removed ? `${result.key} removed from config.json` : `${result.key} was not set in config.json`)
    return result
  }
}
