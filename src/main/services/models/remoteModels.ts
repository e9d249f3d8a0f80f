/**
 * `gantry_remote models --run ID --json` on a host, parsed with zod. Records with names that
 * could escape the backup folder (path separators, "..") are dropped, never trusted.
 */
import { z } from 'zod'
import { FileName, GameName, RemoteRelPath, RunId } from '../../../shared/ids'
import type { HostSession } from '../host/hostSession'
import { runGantry } from '../host/gantryCli'

export const RemoteModelRecord = z.object({
  run_id: RunId,
  game: GameName,
  kind: z.enum(['model', 'probe', 'recording', 'checkpoint']),
  file: FileName,
  path: RemoteRelPath,
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  step: z.number().int().nullable().optional(),
  episodes: z.number().int().nullable().optional(),
  created_ts: z.number().nullable().optional(),
  mean_return: z.number().nullable().optional(),
})
  // The path must be where the host's layout keeps this very file (PROTOCOL.md "Layout"), so one record cannot point at another's bytes.
  .refine((r) => r.path === `runs/${r.run_id}/games/${r.game}/${r.kind === 'checkpoint' ? 'ckpt' : 'models'}/${r.file}`)
export type RemoteModelRecord = z.infer<typeof RemoteModelRecord>

const ModelsResult = z.object({ models: z.array(z.unknown()) })

export async function listRemoteModels(session: HostSession, runId: string, log: (line: string) => void = () => {}): Promise<RemoteModelRecord[]> {
  const result = await runGantry(session, 'models', ['--run', runId, '--json'], ModelsResult)
  const records: RemoteModelRecord[] = []
  for (const raw of result.models) {
    const parsed = RemoteModelRecord.safeParse(raw)
    if (parsed.success && parsed.data.run_id === runId) records.push(parsed.data)
    else log(`[models] ignored a malformed model record from ${session.instanceId}: ${JSON.stringify(raw).slice(0, 200)}`)
  }
  return records
}

