/**
 * `gantry_remote models --run ID --json` on a host, parsed with zod. Records with names that
 * could escape the backup folder (path separators, "..") are dropped, never trusted.
 */
import { z } from 'zod'
import type { HostSession } from '../host/hostSession'
import { runGantry } from '../host/gantryCli'

const SafeName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,200}$/)

export const RemoteModelRecord = z.object({
  run_id: z.string(),
  game: SafeName,
  kind: z.enum(['model', 'probe', 'checkpoint']),
  file: SafeName,
  path: z.string().min(1).refine((p) => !p.startsWith('/') && !p.split('/').includes('..')),
  size: z.number().int().nonnegative(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  step: z.number().int().nullable().optional(),
  episodes: z.number().int().nullable().optional(),
  created_ts: z.number().nullable().optional(),
  mean_return: z.number().nullable().optional(),
})
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

/** Absolute path on the host of a record's root-relative path. */
export function remoteAbsolutePath(session: HostSession, relPath: string): string {
  return `${session.root.replace(/\/+$/, '')}/${relPath}`
}
