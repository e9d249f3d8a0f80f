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
export function RunHeader({ instance, model, stream, nowS, children }: { instance: InstanceSummary; model: RunModel; stream: StreamState | undefined; nowS: number; children?: ReactNode }) {
  const up = uptimeS(model, nowS)
  const remaining = model.ended ? 0 : projectedRemainingHours(model.games.values(), model.slots ?? 1)
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
          <dd title={instance.hourlyPrice === null ? 'Set an hourly price in the instance settings to see costs.' : `${formatMoney(instance.hourlyPrice)}/h`}>{instance.hourlyPrice === null ? 'no price set' : formatMoney(costSoFar(instance.hourlyPrice, up))}</dd>
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
            {instance.hourlyPrice !== null && ` · ${formatMoney(projectedCost(instance.hourlyPrice, up, remaining))} total`}
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
