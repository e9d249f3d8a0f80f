import type { ReactNode } from 'react'
import type { InstanceSummary } from '../../../../shared/api/instances'
import type { StreamState } from '../../../../shared/api/runs'
import { StatusDot, type DotTone } from '../../components/StatusDot'
import type { RunModel } from '../../lib/runModel'
import { budgetText, budgetTitle } from '../../lib/budgetText'
import { costSoFar, formatDuration, formatMoney, projectedCost, projectedRemainingHours, uptimeS } from '../../lib/runMaths'

const STREAM_TONE: Record<StreamState['status'], DotTone> = { attaching: 'busy', live: 'ok', stale: 'warn', reconnecting: 'warn', ended: 'idle', failed: 'error' }

function streamText(stream: StreamState | undefined): string {
  if (!stream) return 'connecting…'
  switch (stream.status) {
    case 'live':
      return 'live'
    case 'stale':
      return `stale since ${stream.lastHeardAt ? new Date(stream.lastHeardAt).toLocaleTimeString() : 'start'}`
    case 'reconnecting':
      return 're-attaching…'
    case 'ended':
      return 'run finished'
    case 'failed':
      return 'stream failed'
    default:
      return 'attaching…'
  }
}

/** `children`: lines under the facts (the after-run command). */
function costTitle(instance: InstanceSummary, model: RunModel): string {
  if (instance.hourlyPrice === null) return `Set ${instance.kind === 'slurm' ? 'a price per GPU-hour' : 'an hourly price'} in the instance settings to see costs.`
  if (instance.kind !== 'slurm') return `${formatMoney(instance.hourlyPrice)}/h`
  return model.budget?.gpu_hours === undefined
    ? "A SLURM run's cost is counted from its jobs' GPU-hours when the run has a budget."
    : `${model.budget.gpu_hours.toFixed(2)} GPU-hours × ${formatMoney(instance.hourlyPrice)} per GPU-hour`
}

export function RunHeader({ instance, model, stream, nowS, children }: { instance: InstanceSummary; model: RunModel; stream: StreamState | undefined; nowS: number; children?: ReactNode }) {
  const up = uptimeS(model, nowS)
  const remaining = model.ended ? 0 : projectedRemainingHours(model.games.values(), model.slots ?? 1)
  // On a SLURM cluster the price is per GPU-hour and only the jobs' GPU-hours (journaled with a budget) count, not the uptime.
  const slurm = instance.kind === 'slurm'
  const gpuHours = model.budget?.gpu_hours
  const cost = slurm ? (gpuHours === undefined || instance.hourlyPrice === null ? null : gpuHours * instance.hourlyPrice) : costSoFar(instance.hourlyPrice, up)
  const totalCost = slurm ? (model.budget?.unit === 'usd' ? model.budget.projected : null) : projectedCost(instance.hourlyPrice, up, remaining)
  return (
    <section className="panel run-header" aria-label="Run summary" data-last-seq={model.lastSeq} data-event-count={model.eventCount}>
      <div className="run-title">
        <h2>{model.planName ?? model.runId}</h2>
        <span className="muted">run {model.runId}</span>
      </div>
      <dl className="run-facts">
        <div>
          <dt>Instance</dt>
          <dd>
            {instance.name} <span className="muted">({instance.connection.status})</span>
          </dd>
        </div>
        <div>
          <dt>Stream</dt>
          <dd className="stream-state" data-status={stream?.status ?? 'attaching'} title={stream?.message ?? undefined}>
            <StatusDot tone={STREAM_TONE[stream?.status ?? 'attaching']} label={stream?.status ?? 'attaching'} /> {streamText(stream)}
          </dd>
        </div>
        <div>
          <dt>GPU</dt>
          <dd>{model.gpu.names.length ? [...new Set(model.gpu.names)].map((n) => `${model.gpu.names.filter((x) => x === n).length}× ${n}`).join(', ') : 'none (CPU)'}</dd>
        </div>
        <div>
          <dt>Uptime</dt>
          <dd>{formatDuration(up / 3600)}</dd>
        </div>
        <div>
          <dt>Cost so far</dt>
          <dd title={costTitle(instance, model)}>{instance.hourlyPrice === null ? 'no price set' : cost === null ? 'counted with a budget' : formatMoney(cost)}</dd>
        </div>
        {model.budget && (
          <div data-testid="budget" data-status={model.budget.status}>
            <dt>Budget</dt>
            <dd className={model.budget.status === 'ok' ? undefined : 'warn-text'} title={budgetTitle(model.budget)}>
              {budgetText(model.budget)}
            </dd>
          </div>
        )}
        <div>
          <dt>To finish</dt>
          <dd>
            {model.ended ? model.ended : formatDuration(remaining)}
            {totalCost !== null && ` · ${formatMoney(totalCost)} total`}
          </dd>
        </div>
      </dl>
      {children}
      {stream?.message && stream.status !== 'live' && (
        <p className={stream.status === 'failed' ? 'form-error' : 'muted'} role="status">
          {stream.message}
        </p>
      )}
    </section>
  )
}
