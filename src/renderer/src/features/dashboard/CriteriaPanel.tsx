import { evaluateCriteria, type CriterionStatus } from '../../lib/criteria'
import type { RunModel } from '../../lib/runModel'

const LABEL: Record<CriterionStatus, string> = { met: 'met', on_track: 'on track', at_risk: 'at risk', failed: 'failed', na: 'n/a' }
const TONE: Record<CriterionStatus, string> = { met: 'ok', on_track: 'busy', at_risk: 'warn', failed: 'error', na: 'idle' }

export function CriteriaPanel({ model, nowS }: { model: RunModel; nowS: number }) {
  return (
    <section className="panel" aria-label="Success criteria">
      <h2>Success criteria</h2>
      <ul className="criteria">
        {evaluateCriteria(model, nowS).map((c) => (
          <li key={c.id} data-criterion={c.id}>
            <span className={`badge badge-${TONE[c.status]}`}>{LABEL[c.status]}</span>
            <span className="criterion-label">{c.label}</span>
            <span className="muted">{c.detail}</span>
          </li>
        ))}
      </ul>
    </section>
  )
}
