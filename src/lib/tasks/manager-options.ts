import type {Config} from '../config/types.js'
import type {SecretRedactor} from '../secrets/redactor.js'
import type {Store} from '../store/store.js'
import type {CheckpointCreated} from './checkpoints/checkpoints.js'
import type {MakimaEntry} from './roles/orchestrate-script.js'

/** What a TaskManager (manager.ts) is made with: the store, the config, and the process's hooks. */
export interface TaskManagerOptions {
  store: Store
  config: Config
  /** environment tasks and runners inherit (cleaned); commands pass process.env */
  env: Record<string, string | undefined>
  /** each heartbeat snapshot as the protocol's checkpointCreated payload (the daemon sends it) */
  onCheckpoint?: (taskId: string, payload: CheckpointCreated) => void
  /** how to start a detached runner: `<execPath> <script> task run <id>` (also written into .makima/orchestrate.sh) */
  runnerEntry?: MakimaEntry
  /** each tool key made for a task this process runs (the daemon registers it: registerToolKey) */
  onToolKey?: (taskId: string, toolKey: string) => void
  /** the process's known secrets, taken out of every output line (the daemon shares its logger's);
   * the server API key and Claude Code's credentials of config and env are added here */
  redactor?: SecretRedactor
  /**
   * worktree.warmPool: top the repository's pool up again when a task's run ends (the daemon
   * refills in its own process); without it a detached `task pool-fill` does (tasks/workspace/pool.ts)
   */
  poolRefill?: (repoPath: string, base: string) => void
  /**
   * This process is a detached runner (`task run`): a queued task that a slot freed here lets in is
   * run in this process, which is already up, instead of in a new runner (tasks/queue.ts)
   */
  hostQueued?: boolean
}
