import type {Config} from '../config/types.js'
import type {Store} from '../store/store.js'

/**
 * Drop ended tasks older than history.retentionDays (their output, checkpoints and inbox too),
 * and, best effort, their side refs refs/makima/checkpoints/<id>/* in their repositories.
 * Returns the ids dropped. One read when nothing has expired (every create and admit calls it).
 */
export async function purgeExpiredTasks(store: Store, config: Config): Promise<string[]> {
  const purged = store.tasks.purgeEnded(config.history.retentionDays)
  if (purged.length === 0) return []
  const {deleteCheckpointRefs} = await import('./checkpoints/checkpoints.js')
  for (const {id, repoPath} of purged) if (repoPath) await deleteCheckpointRefs(repoPath, id).catch(() => 0)
  return purged.map((t) => t.id)
}
