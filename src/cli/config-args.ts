import {Args} from '@oclif/core'

/** The <key> argument of `config get`, `config set` and `config unset`. */
export const configKeyArg = Args.string({description: 'config key, e.g. process.maxConcurrentTasks (see `makima config list`)', required: true})
