import { z } from 'zod'

export const LOCAL_INSTANCE_ID = 'local'

export const InstanceId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._-]+$/, 'Instance ids use letters, digits, dot, dash and underscore.')

export const ConnectionState = z.object({
  status: z.enum(['idle', 'connecting', 'connected', 'reconnecting', 'failed']),
  /** Seconds until the next reconnect attempt, when status is "reconnecting". */
  retryInS: z.number().nullable(),
  /** A sentence the user can act on, when status is "failed" or "reconnecting". */
  message: z.string().nullable(),
  since: z.number(),
})
export type ConnectionState = z.infer<typeof ConnectionState>

export const SetupState = z.object({
  status: z.enum(['unknown', 'not_set_up', 'ready', 'failed']),
  /** Content hash of the remote/ folder that was set up, when ready. */
  remoteHash: z.string().nullable(),
  checkedAt: z.number().nullable(),
  message: z.string().nullable(),
})
export type SetupState = z.infer<typeof SetupState>

export const InstanceSummary = z.object({
  id: InstanceId,
  name: z.string(),
  kind: z.enum(['local', 'ssh']),
  /** user@host:port for ssh instances, "this computer" for the local one. */
  address: z.string(),
  hourlyPrice: z.number().nonnegative().nullable(),
  connection: ConnectionState,
  setup: SetupState,
})
export type InstanceSummary = z.infer<typeof InstanceSummary>

export const methods = {
  'instances.list': {
    input: z.object({}).strict(),
    output: z.array(InstanceSummary),
  },
} as const

export const events = {
  /** The instance list or any instance's connection/setup state changed. */
  'instances.changed': z.object({ instances: z.array(InstanceSummary) }),
} as const
