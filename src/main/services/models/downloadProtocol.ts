/**
 * The messages between the app and its download process (ssh/downloadChild.ts), as zod schemas:
 * each side parses every message it receives and treats one that does not parse as a broken
 * peer, never as data. Secrets (a key's passphrase, a password) travel only in these messages,
 * in memory; they are never written to a file or put on a command line.
 */
import { z } from 'zod'
import { AuthInfo, PinnedHostKey } from '../../../shared/api/instances'
import { ErrorCode } from '../../../shared/rpc'

const Secrets = z.strictObject({ passphrase: z.string().nullable(), password: z.string().nullable() })

/** One SSH hop as the app's own connection uses it (connect.ts HopTarget), with its secrets. */
export const DownloadHop = z.strictObject({
  role: z.enum(['host', 'jump']),
  label: z.string(),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  user: z.string().min(1),
  auth: AuthInfo,
  /** Null never connects: the download process cannot ask the user to trust a key. */
  pin: PinnedHostKey.nullable(),
  secrets: Secrets,
})
export type DownloadHop = z.infer<typeof DownloadHop>

export const DownloadConnection = z.strictObject({
  host: DownloadHop,
  jump: DownloadHop.nullable(),
  agentSocket: z.string().nullable(),
  keepaliveIntervalMs: z.number().int().positive().optional(),
  keepaliveCountMax: z.number().int().positive().optional(),
  readyTimeoutMs: z.number().int().positive().optional(),
})
export type DownloadConnection = z.infer<typeof DownloadConnection>

const JobId = z.number().int().nonnegative()

export const ParentMessage = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('download'),
    id: JobId,
    connection: DownloadConnection,
    remotePath: z.string().min(1),
    expectedSha256: z.string().regex(/^[0-9a-f]{64}$/),
    expectedSize: z.number().int().nonnegative().optional(),
    /** The destination is `root/segments…`, checked there again (containedPath). */
    root: z.string().min(1),
    segments: z.array(z.string().min(1)).min(1),
  }),
  z.strictObject({ type: z.literal('cancel'), id: JobId }),
])
export type ParentMessage = z.infer<typeof ParentMessage>

export const ChildMessage = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('progress'), id: JobId, received: z.number().nonnegative(), total: z.number().nonnegative(), bytesPerSec: z.number().nonnegative().nullable() }),
  z.strictObject({ type: z.literal('done'), id: JobId, path: z.string(), size: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/), resumedFrom: z.number().int().nonnegative() }),
  z.strictObject({ type: z.literal('failed'), id: JobId, code: ErrorCode, message: z.string(), mismatch: z.boolean(), cancelled: z.boolean() }),
  /** The app sent something that does not parse; the process exits after saying so. */
  z.strictObject({ type: z.literal('protocol_error'), message: z.string() }),
])
export type ChildMessage = z.infer<typeof ChildMessage>

/** A short, printable description of what failed to parse (never the message itself: it may hold a secret). */
export function describeParseError(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`)
    .join('; ')
}
