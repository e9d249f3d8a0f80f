/**
 * Wire envelopes shared by both transports (Electron IPC and the web host's WebSocket).
 * Everything that arrives over a wire is parsed with these schemas before it is trusted.
 */
import { z } from 'zod'

export const errorCodes = [
  'invalid_input',
  'unknown_method',
  'not_found',
  'conflict',
  'auth_failed',
  'host_key_unknown',
  'host_key_changed',
  'unreachable',
  'remote_failed',
  'unsupported_protocol',
  'cancelled',
  'internal',
] as const
export const ErrorCode = z.enum(errorCodes)
export type ErrorCode = z.infer<typeof ErrorCode>

export const RpcErrorBody = z.object({ code: ErrorCode, message: z.string() })
export type RpcErrorBody = z.infer<typeof RpcErrorBody>

export const RequestEnvelope = z.object({
  kind: z.literal('req'),
  id: z.number().int().nonnegative(),
  method: z.string().min(1).max(100),
  input: z.unknown(),
})
export const CancelEnvelope = z.object({ kind: z.literal('cancel'), id: z.number().int().nonnegative() })
export const SubscribeEnvelope = z.object({
  kind: z.enum(['sub', 'unsub']),
  topic: z.string().min(1).max(100),
  key: z.string().max(200).optional(),
})
export const ClientEnvelope = z.discriminatedUnion('kind', [
  RequestEnvelope,
  CancelEnvelope,
  SubscribeEnvelope.extend({ kind: z.literal('sub') }),
  SubscribeEnvelope.extend({ kind: z.literal('unsub') }),
])
export type ClientEnvelope = z.infer<typeof ClientEnvelope>

export type ResponseEnvelope =
  | { kind: 'res'; id: number; ok: true; output: unknown }
  | { kind: 'res'; id: number; ok: false; error: RpcErrorBody }
export type EventEnvelope = { kind: 'evt'; topic: string; key?: string; payload: unknown }
export type ServerEnvelope = ResponseEnvelope | EventEnvelope

export const ServerEnvelopeSchema = z.union([
  z.object({ kind: z.literal('res'), id: z.number(), ok: z.literal(true), output: z.unknown() }),
  z.object({ kind: z.literal('res'), id: z.number(), ok: z.literal(false), error: RpcErrorBody }),
  z.object({ kind: z.literal('evt'), topic: z.string(), key: z.string().optional(), payload: z.unknown() }),
])

/** An error a service throws on purpose: its message is shown to the user as is. */
export class RpcError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'RpcError'
  }
}
