import {git} from './git-runner.js'

/**
 * Environment for a commit makima makes itself (checkpoint, snapshot) in `dir`: empty when
 * user.name and user.email resolve there; otherwise GIT_AUTHOR_* / GIT_COMMITTER_* with makima's
 * fallback for what is missing, so the commit never fails for lack of an identity. Nothing is
 * written to any config.
 */
export async function commitIdentityEnv(dir: string): Promise<Record<string, string>> {
  const [name, email] = await Promise.all(
    ['user.name', 'user.email'].map(async (key) => {
      const r = await git(['config', '--get', key], {cwd: dir, allowFailure: true})
      return r.exitCode === 0 && r.stdout.trim().length > 0
    }),
  )
  const env: Record<string, string> = {}
  if (!name) Object.assign(env, {GIT_AUTHOR_NAME: 'makima', GIT_COMMITTER_NAME: 'makima'})
  if (!email) Object.assign(env, {GIT_AUTHOR_EMAIL: 'makima@localhost', GIT_COMMITTER_EMAIL: 'makima@localhost'})
  return env
}
