import path from 'node:path'

import type {Store} from '../lib/store/store.js'
import type {MergeContext} from '../lib/tasks/merges.js'
import {TaskCommand} from './task-command.js'

/** Base of the `merge` commands: the merge library, loaded when a command runs (not at start-up). */
export abstract class MergeCommand extends TaskCommand {
  /**
   * merges.ts with this process's store, and the context of the operations that change a
   * worktree (they take the cross-process lock under $MAKIMA_HOME/locks).
   */
  protected async merges(): Promise<{merges: typeof import('../lib/tasks/merges.js'); store: Store; ctx: MergeContext}> {
    const store = await this.openStore()
    const merges = await import('../lib/tasks/merges.js')
    return {merges, store, ctx: {store, locksDir: path.join(this.makimaConfig().home, 'locks')}}
  }
}
