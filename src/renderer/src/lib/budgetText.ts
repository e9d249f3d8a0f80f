import type { RunEventOf } from '../../../shared/remoteProtocol'
import { formatDuration, formatMoney } from './runMaths'

type Budget = RunEventOf<'budget'>

const amount = (b: Budget, v: number) => (b.unit === 'usd' ? formatMoney(v) : formatDuration(v))

/** "$41.25 spent · $57.80 projected · budget $50.00": the supervisor's own count. */
export function budgetText(b: Budget): string {
  const projected = b.projected === null ? 'projection after 2% of the episodes' : `${amount(b, b.projected)} projected`
  return `${amount(b, b.spent)} spent · ${projected} · budget ${amount(b, b.limit)}`
}

export function budgetTitle(b: Budget): string {
  if (b.status === 'reached') return b.on_limit === 'stop' ? 'Budget reached: the supervisor stopped the run cleanly (checkpoints written, models exported).' : 'Budget reached; set to warn only, so training continues.'
  if (b.status === 'over_projection') return `At this pace the run will cost more than its budget. At the limit the supervisor will ${b.on_limit === 'stop' ? 'stop it cleanly' : 'only warn'}.`
  if (b.gpu_hours !== undefined) return `Counted from the SLURM jobs' GPU-hours (${b.gpu_hours.toFixed(2)} GPU-h) at the instance's price per GPU-hour.`
  return `Counted by the supervisor from the run's active time (${formatDuration(b.active_hours)}).`
}
