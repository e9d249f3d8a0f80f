/**
 * Embedded terminals: an interactive shell (PTY) or a read-only stream (supervisor log, a game's
 * log, nvidia-smi). Output is flow-controlled by acks from the renderer (after xterm has drawn).
 */
import { z } from 'zod'
import { GameName, RunId } from '../ids'
import { InstanceId } from './instances'

export const TerminalId = z.string().regex(/^t[0-9a-z]{1,24}$/)
export const TerminalKind = z.enum(['shell', 'log', 'supervisor', 'gpu'])
export type TerminalKind = z.infer<typeof TerminalKind>

const size = { cols: z.number().int().min(2).max(1000), rows: z.number().int().min(1).max(500) }

export const methods = {
  'terminals.open': {
    input: z
      .object({ instanceId: InstanceId, kind: TerminalKind, runId: RunId.optional(), game: GameName.optional(), ...size })
      .strict()
      .refine((i) => i.kind !== 'log' || (i.runId && i.game), 'A game log terminal needs runId and game.')
      .refine((i) => i.kind !== 'supervisor' || i.runId, 'A supervisor log terminal needs runId.'),
    output: z.object({ terminalId: z.string(), title: z.string() }),
  },
  'terminals.write': { input: z.object({ terminalId: TerminalId, data: z.string().max(65536) }).strict(), output: z.object({}) },
  'terminals.resize': { input: z.object({ terminalId: TerminalId, ...size }).strict(), output: z.object({}) },
  'terminals.ack': { input: z.object({ terminalId: TerminalId, chars: z.number().int().nonnegative() }).strict(), output: z.object({}) },
  'terminals.close': { input: z.object({ terminalId: TerminalId }).strict(), output: z.object({}) },
} as const

export const events = {
  /** Output, keyed by terminalId. */
  'terminals.data': z.object({ terminalId: z.string(), data: z.string() }),
  'terminals.exit': z.object({ terminalId: z.string(), code: z.number().nullable(), message: z.string().nullable() }),
} as const
