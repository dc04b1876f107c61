/**
 * The configuration keys of docs/cli.md: one row per key with its environment variable,
 * its type and its default. Everything else in the config layer is driven by this table.
 */
export type KeyType = 'string' | 'url' | 'int' | 'number' | 'boolean' | 'stringArray' | 'secret'

export interface KeySpec {
  key: string
  env?: string
  type: KeyType
  /** Default value; a function gets MAKIMA_HOME. undefined = no default. */
  default?: unknown | ((home: string) => unknown)
  min?: number
  max?: number
  /** URL schemes a `url` key accepts. */
  schemes?: string[]
  /** Why `config set` refuses the key (it is read from the environment or a flag only). */
  notInFile?: string
  description: string
}

export const CONFIG_KEYS: readonly KeySpec[] = [
  {key: 'server.url', env: 'MAKIMA_DAEMON_SERVER_URL', type: 'url', schemes: ['ws:', 'wss:'], default: 'wss://api.makima.jp', description: 'WebSocket URL of the makima server'},
  {
    key: 'server.apiKey',
    env: 'MAKIMA_DAEMON_SERVER_APIKEY',
    type: 'secret',
    description: 'API key the daemon authenticates with (required by `makima daemon`; environment, --api-key or server.apiKeyFile, never config.json)',
    notInFile:
      'a task runs as your user and can read $MAKIMA_HOME/config.json, so makima does not keep secrets there: give the daemon the key as MAKIMA_DAEMON_SERVER_APIKEY, or put it in a file outside MAKIMA_HOME and run `makima config set server.apiKeyFile <path>` (with process.bubblewrap.enabled, tasks cannot read that file)',
  },
  {key: 'server.apiKeyFile', env: 'MAKIMA_DAEMON_SERVER_APIKEYFILE', type: 'string', description: 'a file holding the server API key (read once at daemon start; keep it outside MAKIMA_HOME)'},
  {key: 'server.heartbeatIntervalSecs', env: 'MAKIMA_DAEMON_SERVER_HEARTBEATINTERVALSECS', type: 'number', min: 0.1, default: 30, description: 'seconds between daemon heartbeats'},
  {key: 'server.reconnectIntervalSecs', env: 'MAKIMA_DAEMON_SERVER_RECONNECTINTERVALSECS', type: 'number', min: 0.1, default: 5, description: 'first reconnect delay in seconds (doubles up to 60)'},
  {key: 'worktree.baseDir', env: 'MAKIMA_DAEMON_WORKTREE_BASEDIR', type: 'string', default: (home: string) => `${home}/worktrees`, description: 'where task worktrees are created'},
  {
    key: 'worktree.warmPool',
    env: 'MAKIMA_DAEMON_WORKTREE_WARMPOOL',
    type: 'int',
    min: 0,
    max: 16,
    default: 0,
    description:
      'ready worktrees kept checked out per repository (under worktree.baseDir/.pool): a spawn takes one and moves it to its base and branch instead of checking out the whole tree; refilled in the background when a task of the repository ends (0 = off)',
  },
  {key: 'worktree.reposDir', env: 'MAKIMA_DAEMON_WORKTREE_REPOSDIR', type: 'string', default: (home: string) => `${home}/repos`, description: 'where remote repositories are cloned'},
  {
    key: 'worktree.setupCommand',
    env: 'MAKIMA_DAEMON_WORKTREE_SETUPCOMMAND',
    type: 'string',
    description: 'shell command run in each new task worktree before Claude Code starts (an executable .makima/setup committed in the repository wins; `task spawn --no-setup` skips it)',
  },
  {
    key: 'worktree.teardownCommand',
    env: 'MAKIMA_DAEMON_WORKTREE_TEARDOWNCOMMAND',
    type: 'string',
    description: 'shell command run in a task worktree by `task cleanup` and `task prune` before it is removed (an executable .makima/teardown in the repository wins)',
  },
  {
    key: 'worktree.setupTimeoutSecs',
    env: 'MAKIMA_DAEMON_WORKTREE_SETUPTIMEOUTSECS',
    type: 'number',
    min: 1,
    default: 600,
    description: 'seconds a setup or teardown command may run before it is killed (the task fails)',
  },
  {
    key: 'worktree.shareDirs',
    type: 'stringArray',
    default: [],
    description:
      'directories of the source checkout (e.g. ["node_modules"]) symlinked into each new worktree instead of copied: fast and small, but every task and the checkout share them, so a task that installs or deletes packages changes them for all',
  },
  {key: 'localDb.path', env: 'MAKIMA_DAEMON_LOCALDB_PATH', type: 'string', default: (home: string) => `${home}/makima.db`, description: 'the SQLite database'},
  {key: 'process.maxConcurrentTasks', env: 'MAKIMA_DAEMON_PROCESS_MAXCONCURRENTTASKS', type: 'int', min: 1, default: 10, description: 'active tasks allowed at once on this machine'},
  {
    key: 'process.queueWhenFull',
    env: 'MAKIMA_DAEMON_PROCESS_QUEUEWHENFULL',
    type: 'boolean',
    default: false,
    description: 'task spawn/start queue the task when every slot is taken (as with --queue) instead of exiting 4; the daemon never queues',
  },
  {key: 'process.maxTasksPerContract', env: 'MAKIMA_DAEMON_PROCESS_MAXTASKSPERCONTRACT', type: 'int', min: 1, default: 10, description: 'active tasks allowed at once per contract'},
  {key: 'process.claudeCommand', env: 'MAKIMA_DAEMON_PROCESS_CLAUDECOMMAND', type: 'string', default: 'claude', description: 'the Claude Code executable (name on PATH or path)'},
  {key: 'process.claudeArgs', type: 'stringArray', default: [], description: 'extra arguments appended to every claude invocation'},
  {key: 'process.claudePreArgs', type: 'stringArray', default: [], description: 'arguments placed before the print-mode flags'},
  {
    key: 'process.enablePermissions',
    env: 'MAKIMA_DAEMON_PROCESS_ENABLEPERMISSIONS',
    type: 'boolean',
    default: false,
    description: 'keep Claude Code permission prompts (no --dangerously-skip-permissions)',
  },
  {
    key: 'process.heartbeatCommitIntervalSecs',
    env: 'MAKIMA_DAEMON_PROCESS_HEARTBEATCOMMITINTERVALSECS',
    type: 'number',
    min: 0,
    default: 300,
    description: 'seconds between heartbeat snapshots (0 = off)',
  },
  {key: 'process.bubblewrap.enabled', env: 'MAKIMA_DAEMON_PROCESS_BUBBLEWRAP_ENABLED', type: 'boolean', default: false, description: 'run Claude Code under bwrap'},
  {key: 'process.interruptGraceSecs', env: 'MAKIMA_DAEMON_PROCESS_INTERRUPTGRACESECS', type: 'number', min: 0, default: 5, description: 'seconds between SIGTERM and SIGKILL on interrupt'},
  {key: 'checkpointPatches.enabled', type: 'boolean', default: true, description: 'attach patches to checkpoints'},
  {key: 'checkpointPatches.maxPatchSizeBytes', type: 'int', min: 0, default: 10_485_760, description: 'largest patch (gzip) that is stored'},
  {key: 'api.url', env: 'MAKIMA_DAEMON_API_URL', type: 'url', schemes: ['http:', 'https:'], default: 'https://api.makima.jp', description: 'HTTP API given to tasks as MAKIMA_API_URL'},
  {key: 'history.retentionDays', env: 'MAKIMA_DAEMON_HISTORY_RETENTIONDAYS', type: 'number', min: 0, default: 30, description: 'days finished tasks, their output, patches and side refs are kept'},
  {
    key: 'history.maxWorktreeBytes',
    env: 'MAKIMA_DAEMON_HISTORY_MAXWORKTREEBYTES',
    type: 'int',
    min: 0,
    default: 0,
    description: 'when the worktrees of ended tasks together pass this many bytes, the oldest are removed after a snapshot, at task end (0 = off)',
  },
  {key: 'autonomous.maxRuns', type: 'int', min: 1, default: 10, description: 'autonomous loop: most runs of one task'},
  {key: 'autonomous.maxRunsWithoutProgress', type: 'int', min: 1, default: 3, description: 'autonomous loop: consecutive runs without progress before failing'},
  {key: 'autonomous.maxSameBlocker', type: 'int', min: 1, default: 3, description: 'autonomous loop: same first blocker in a row before failing'},
  {
    key: 'limits.timeoutSecs',
    env: 'MAKIMA_DAEMON_LIMITS_TIMEOUTSECS',
    type: 'number',
    min: 0,
    default: 0,
    description: 'default wall time limit of a task, all its runs together, in seconds (0 = none; task spawn --timeout)',
  },
  {
    key: 'limits.maxTurns',
    env: 'MAKIMA_DAEMON_LIMITS_MAXTURNS',
    type: 'int',
    min: 0,
    default: 0,
    description: 'default limit of assistant turns of a task, counted by makima across its runs (0 = none; task spawn --max-turns)',
  },
  {
    key: 'limits.maxCostUsd',
    env: 'MAKIMA_DAEMON_LIMITS_MAXCOSTUSD',
    type: 'number',
    min: 0,
    default: 0,
    description: "default cost limit of a task in US dollars, Claude Code's figure at API prices (0 = none; task spawn --max-cost)",
  },
  {
    key: 'limits.resumeAfterLimit',
    env: 'MAKIMA_DAEMON_LIMITS_RESUMEAFTERLIMIT',
    type: 'boolean',
    default: false,
    description: 'a task a usage limit of Claude Code ended (failureKind usage_limit) is resumed with a short "continue" once the limit resets (task spawn/start/send --resume-after-limit)',
  },
  {key: 'outbox.maxMessages', type: 'int', min: 1, default: 100_000, description: 'daemon outbox bound (messages)'},
  {key: 'outbox.maxBytes', type: 'int', min: 1, default: 268_435_456, description: 'daemon outbox bound (bytes)'},
  {
    key: 'daemon.readRoots',
    type: 'stringArray',
    default: [],
    description:
      'directories (absolute or ~/) whose files the server may read with readRepoFile, besides task repositories and worktrees and the cached clones: see docs/protocol-paths.md. Files inside $MAKIMA_HOME and inside .git directories are never served',
  },
  {
    key: 'daemon.drainGraceSecs',
    env: 'MAKIMA_DAEMON_DAEMON_DRAINGRACESECS',
    type: 'number',
    min: 0,
    default: 20,
    description: "seconds a SIGTERMed daemon takes to drain: snapshot and hand back its tasks, then wait for the server to ack (keep it below the pod's grace period)",
  },
  {
    key: 'daemon.metricsPort',
    env: 'MAKIMA_DAEMON_DAEMON_METRICSPORT',
    type: 'int',
    min: 0,
    max: 65535,
    description: 'serve /healthz, /readyz and /metrics on this port (0: any free port; unset: off)',
  },
  {key: 'daemon.metricsHost', env: 'MAKIMA_DAEMON_DAEMON_METRICSHOST', type: 'string', default: '127.0.0.1', description: 'address the metrics port listens on (0.0.0.0 in a container)'},
  {
    key: 'daemon.healthDbBudgetSecs',
    env: 'MAKIMA_DAEMON_DAEMON_HEALTHDBBUDGETSECS',
    type: 'number',
    min: 0.1,
    default: 120,
    description: '/healthz fails when the database has accepted no write for this long',
  },
]

const BY_KEY = new Map(CONFIG_KEYS.map((spec) => [spec.key, spec]))

export function keySpec(key: string): KeySpec | undefined {
  return BY_KEY.get(key)
}
