import {Args} from '@oclif/core'

import {MakimaCommand} from '../../cli/base-command.js'
import {configKeyArg} from '../../cli/config-args.js'
import {keySpec} from '../../lib/config/keys.js'
import {resolveHome} from '../../lib/config/load.js'
import {formatConfigValue, setConfigValue} from '../../lib/config/store-file.js'
import {displayValue} from '../../lib/config/values.js'

export default class ConfigSet extends MakimaCommand {
  static override summary = 'Set a config key in $MAKIMA_HOME/config.json'
  static override description =
    "Validates the value against the key's type (number, boolean, URL, JSON array of strings...) and stores it typed. An environment variable for the key still takes precedence."

  static override examples = [
    '<%= config.bin %> <%= command.id %> process.maxConcurrentTasks 3',
    '<%= config.bin %> <%= command.id %> process.claudeArgs \'["--model","sonnet"]\'',
    '<%= config.bin %> <%= command.id %> server.apiKey sk-...',
  ]

  static override args = {
    key: configKeyArg,
    value: Args.string({description: 'the new value (arrays as JSON, e.g. \'["--model","sonnet"]\')', required: true}),
  }

  async run(): Promise<{key: string; value: unknown}> {
    const {args} = await this.parse(ConfigSet)
    const {key, value} = await setConfigValue(resolveHome(process.env), args.key, args.value)
    const shown = displayValue(keySpec(key)!, value)
    this.say(`${key} = ${formatConfigValue(shown)}`)
    return {key, value: shown}
  }
}
