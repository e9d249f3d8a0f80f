/** `<model>.probe.json` as the trainer writes it (remote/PROTOCOL.md). */
import { z } from 'zod'

export const ProbeFile = z.object({
  input_name: z.string().min(1),
  input_shape: z.array(z.number().int().positive()).min(1).max(8),
  input: z.array(z.number()),
  output_name: z.string().min(1),
  output: z.array(z.number()),
})
export type ProbeFile = z.infer<typeof ProbeFile>

export function parseProbe(text: string): { ok: true; probe: ProbeFile } | { ok: false; reason: string } {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return { ok: false, reason: 'the probe file is not JSON' }
  }
  const parsed = ProbeFile.safeParse(raw)
  if (!parsed.success) return { ok: false, reason: `the probe file is malformed (${parsed.error.issues[0]?.path.join('.') || 'root'}: ${parsed.error.issues[0]?.message})` }
  const expected = parsed.data.input_shape.reduce((a, b) => a * b, 1)
  if (expected !== parsed.data.input.length) {
    return { ok: false, reason: `the probe input has ${parsed.data.input.length} values but its shape [${parsed.data.input_shape.join(', ')}] needs ${expected}` }
  }
  return { ok: true, probe: parsed.data }
}
