/**
 * Versioned migrations, applied in order inside one transaction each; PRAGMA user_version holds
 * the number applied. Never edit a shipped migration: add a new one.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: tasks, their output, checkpoints, the cross-process inbox, key/value metadata
  `
  CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    short_id TEXT NOT NULL,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    plan TEXT NOT NULL,
    origin TEXT NOT NULL DEFAULT 'cli',
    repo_source TEXT,
    repo_path TEXT,
    base_branch TEXT,
    target_branch TEXT,
    target_repo TEXT,
    branch TEXT,
    worktree_path TEXT,
    base_sha TEXT,
    parent_task_id TEXT,
    is_orchestrator INTEGER NOT NULL DEFAULT 0,
    is_supervisor INTEGER NOT NULL DEFAULT 0,
    autonomous INTEGER NOT NULL DEFAULT 0,
    contract_id TEXT,
    continue_from_task_id TEXT,
    copy_files TEXT,
    completion_action_kind TEXT NOT NULL DEFAULT 'none',
    completion_action TEXT,
    pid INTEGER,
    runner_pid INTEGER,
    runner_start TEXT,
    exit_code INTEGER,
    error TEXT,
    session_id TEXT,
    needs_recovery INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    started_at TEXT,
    completed_at TEXT,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX tasks_state ON tasks(state);
  CREATE INDEX tasks_parent ON tasks(parent_task_id);
  CREATE INDEX tasks_created ON tasks(created_at);

  CREATE TABLE output (
    task_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    stream TEXT NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (task_id, seq)
  ) WITHOUT ROWID;

  CREATE TABLE checkpoints (
    task_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    kind TEXT NOT NULL,
    commit_sha TEXT,
    ref TEXT,
    branch TEXT,
    message TEXT,
    files TEXT,
    lines_added INTEGER,
    lines_removed INTEGER,
    patch BLOB,
    patch_base_sha TEXT,
    patch_files_count INTEGER,
    created_at TEXT NOT NULL,
    PRIMARY KEY (task_id, kind, number)
  );

  CREATE TABLE inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT,
    created_at TEXT NOT NULL,
    taken_at TEXT
  );
  CREATE INDEX inbox_pending ON inbox(task_id, taken_at);

  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT
  );
  `,
  // 2: the daemon's durable outbox (protocol.md "Delivery: nothing is lost")
  `
  CREATE TABLE outbox (
    seq INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    task_id TEXT,
    payload TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX outbox_type ON outbox(type, seq);
  `,
  // 3: subtasks whose branch is deliberately not merged into their parent (merge skip / merge check)
  `
  CREATE TABLE merge_skips (
    task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    subtask_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (task_id, subtask_id)
  ) WITHOUT ROWID;
  CREATE INDEX merge_skips_subtask ON merge_skips(subtask_id);
  `,
  // 4: output as a rowid table. Appended lines go to the end of the table and only the small
  // (task_id, seq) key goes into the index; WITHOUT ROWID kept every line (hundreds of bytes to
  // tens of KB) inside the key's b-tree, ~40% more CPU per stored line (the bench's ingestion).
  `
  CREATE TABLE output_v4 (
    task_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ts INTEGER NOT NULL,
    stream TEXT NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (task_id, seq)
  );
  INSERT INTO output_v4 (task_id, seq, ts, stream, line) SELECT task_id, seq, ts, stream, line FROM output ORDER BY task_id, seq;
  DROP TABLE output;
  ALTER TABLE output_v4 RENAME TO output;
  `,
  // 5: why a failed task failed, as a kind (auth: Claude Code is not logged in), not a text prefix
  `
  ALTER TABLE tasks ADD COLUMN failure_kind TEXT;
  `,
  // 6: the TCP port reserved for a task (MAKIMA_TASK_PORT), and whether its setup command is skipped (--no-setup)
  `
  ALTER TABLE tasks ADD COLUMN task_port INTEGER;
  ALTER TABLE tasks ADD COLUMN skip_setup INTEGER NOT NULL DEFAULT 0;
  `,
  // 7: usage of every run of Claude Code (issue 19; usage-store.ts) and each task's hard limits
  // (tasks.limits: JSON {timeoutSecs, maxTurns, maxCostUsd}, null = none). A run is one claude
  // process: the first, a resume for a follow-up, or an autonomous --continue. cost_usd is the
  // run's own cost; reported_cost_usd the last total_cost_usd it printed (claude/usage.ts).
  `
  CREATE TABLE runs (
    task_id TEXT NOT NULL,
    number INTEGER NOT NULL,
    kind TEXT NOT NULL,
    session_id TEXT,
    cli_version TEXT,
    api_key_source TEXT,
    started_ms INTEGER NOT NULL,
    ended_ms INTEGER,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    cache_read_tokens INTEGER NOT NULL DEFAULT 0,
    cache_write_tokens INTEGER NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    reported_cost_usd REAL,
    turns INTEGER NOT NULL DEFAULT 0,
    results INTEGER NOT NULL DEFAULT 0,
    models TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (task_id, number)
  );
  CREATE INDEX runs_started ON runs(started_ms);
  ALTER TABLE tasks ADD COLUMN limits TEXT;
  `,
  // 8: the machine's queue of tasks waiting for a slot (task spawn/start --queue; issue 19): a
  // queued task's place, taken in the IMMEDIATE transaction that found the cap full
  `
  ALTER TABLE tasks ADD COLUMN queue_seq INTEGER;
  CREATE INDEX tasks_queue ON tasks(queue_seq) WHERE queue_seq IS NOT NULL;
  `,
  // 9: rate limits (issue 19 §3). rate_limit: the machine's hold, one row (one Claude login per
  // MAKIMA_HOME): while until_ms lies in the future admission queues new tasks instead of starting
  // them (rate-limit-store.ts). Per task: until when a usage limit stopped it (or holds it, while
  // queued), and whether it resumes by itself after the reset (--resume-after-limit).
  `
  CREATE TABLE rate_limit (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    until_ms INTEGER NOT NULL,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    task_id TEXT,
    updated_ms INTEGER NOT NULL
  );
  ALTER TABLE tasks ADD COLUMN rate_limited_until TEXT;
  ALTER TABLE tasks ADD COLUMN resume_after_limit INTEGER NOT NULL DEFAULT 0;
  `,
]
