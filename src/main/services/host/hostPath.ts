/**
 * A path on a host built from names (run id, game, file). On "This computer" the host's files are
 * this computer's files, so the path is contained in the Gantry root like any local path built
 * from host data (a symlink planted in the root never leads a log tail or a download elsewhere).
 * On an SSH host the names are already single checked segments (src/shared/ids.ts).
 */
import { containedPath } from '../containedPath'
import type { HostSession } from './hostSession'

export async function hostPath(session: HostSession, ...segments: string[]): Promise<string> {
  if (session.kind === 'local') return containedPath(session.root, ...segments)
  return [session.root.replace(/\/+$/, ''), ...segments].join('/')
}
