import type { Restart } from './runModel'

/** What the restart rule did, as a card says it: "oom → fewer envs: num_envs 256 → 128" (null: the
 * host named no rule, an older one). */
export function ruleSummary(r: Restart): string | null {
  if (!r.rule) return null
  const changed = r.changes.map((c) => `${c.arg} ${c.from} → ${c.to}`).join(', ')
  return `${r.cause} → ${r.rule.replace('_', ' ')}${changed ? `: ${changed}` : r.note ? ` (${r.note})` : ''}`
}
