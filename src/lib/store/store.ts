import {retryWhileBusy} from './busy.js'
import {openDatabase, schemaVersion, type Db} from './database.js'
import {CheckpointStore} from './checkpoint-store.js'
import {InboxStore} from './inbox-store.js'
import {OutboxStore} from './outbox-store.js'
import {OutputStore} from './output-store.js'
import {RateLimitStore} from './rate-limit-store.js'
import {TaskStore} from './task-store.js'
import {UsageStore} from './usage-store.js'

/** The local database: one per process, shared with every other makima process on the machine. */
export class Store {
  readonly tasks: TaskStore
  readonly output: OutputStore
  readonly inbox: InboxStore
  readonly checkpoints: CheckpointStore

  private constructor(readonly db: Db) {
    this.tasks = new TaskStore(db)
    this.output = new OutputStore(db)
    this.inbox = new InboxStore(db)
    this.checkpoints = new CheckpointStore(db)
  }

  private outboxStore?: OutboxStore
  private usageStore?: UsageStore
  private rateLimitStore?: RateLimitStore

  /** The machine's rate-limit hold (rate-limit-store.ts). */
  get rateLimit(): RateLimitStore {
    this.rateLimitStore ??= new RateLimitStore(this.db)
    return this.rateLimitStore
  }

  /** Runs of Claude Code and their usage (usage-store.ts). */
  get usage(): UsageStore {
    this.usageStore ??= new UsageStore(this.db)
    return this.usageStore
  }

  /** The daemon's outbox (opened on first use: only the daemon needs it). */
  get outbox(): OutboxStore {
    this.outboxStore ??= new OutboxStore(this.db)
    return this.outboxStore
  }

  static open(file: string): Store {
    return new Store(openDatabase(file))
  }

  get schemaVersion(): number {
    return schemaVersion(this.db)
  }

  getMeta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as {value: string} | undefined
    return row?.value
  }

  setMeta(key: string, value: string): void {
    const upsert = this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value')
    retryWhileBusy(this.db, () => upsert.run(key, value))
  }

  close(): void {
    try {
      this.output.close()
    } finally {
      this.db.close()
    }
  }
}
