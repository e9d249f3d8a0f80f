/**
 * Setting an instance up: the pre-flight doctor and the one-click bootstrap (upload remote/ when
 * new, run setup.sh, stream its output). The instance list shows each instance's SetupState.
 */
import { z } from 'zod'
import { InstanceId } from './instances'

/** `pending`: not installed yet, which Set up will do (a fresh host is not a failing one). */
export const DoctorVerdict = z.object({ level: z.enum(['ok', 'info', 'pending', 'warning', 'error']), message: z.string() })
/** `gantry_remote doctor --json`; unknown fields are kept for display. */
export const DoctorReport = z.looseObject({
  os: z.string(),
  arch: z.string(),
  disk: z.looseObject({ path: z.string(), free_gb: z.number(), total_gb: z.number() }),
  gpu: z.looseObject({ nvidia_smi: z.string().nullable(), gpus: z.array(z.looseObject({})), driver: z.string().nullable().optional(), cuda: z.string().nullable().optional() }),
  imports: z.looseObject({ python: z.string().optional() }),
  verdicts: z.array(DoctorVerdict),
})
export type DoctorReport = z.infer<typeof DoctorReport>

export const SetupStep = z.object({
  id: z.string(),
  label: z.string(),
  status: z.enum(['pending', 'running', 'ok', 'skip', 'warn', 'fail']),
  /** The result sentence, or the failing output line. */
  message: z.string(),
})
export type SetupStep = z.infer<typeof SetupStep>

export const SetupResult = z.object({
  ok: z.boolean(),
  uploaded: z.boolean(),
  remoteHash: z.string(),
  steps: z.array(SetupStep),
  durationMs: z.number(),
  message: z.string(),
})
export type SetupResult = z.infer<typeof SetupResult>

const ById = z.object({ id: InstanceId }).strict()

export const methods = {
  'setup.doctor': { input: ById, output: DoctorReport },
  /** The one-click bootstrap: upload remote/ (when new), run setup.sh, stream its output. */
  'setup.run': { input: ById, output: SetupResult },
} as const

export const events = {
  /** Live setup output, batched; keyed by instance id. */
  'setup.output': z.object({ instanceId: z.string(), data: z.string() }),
  /** The setup checklist, whole, each time a step changes; keyed by instance id. */
  'setup.steps': z.object({ instanceId: z.string(), steps: z.array(SetupStep), running: z.boolean() }),
} as const
