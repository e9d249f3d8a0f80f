import type { ValidationReport } from '../../../../shared/api/models'

export function ValidationReportCard({ report }: { report: ValidationReport }) {
  const shape = (s: Array<number | string>) => `[${s.join(', ')}]`
  return (
    <div className="validation-report" data-testid="validation-report">
      <div className="validation-title">
        <strong className="mono">{report.file}</strong>
        {report.validated ? <span className="model-badge model-badge-ok">Validated</span> : <span className="model-badge model-badge-error">Not validated</span>}
      </div>
      {report.problems.length > 0 && (
        <ul className="validation-problems">
          {report.problems.map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      {(report.inputs.length > 0 || report.outputs.length > 0) && (
        <p className="muted">
          Inputs: {report.inputs.map((i) => `${i.name} ${i.type} ${shape(i.shape)}`).join('; ') || 'none'} · Outputs:{' '}
          {report.outputs.map((o) => `${o.name} ${o.type} ${shape(o.shape)}`).join('; ') || 'none'}
        </p>
      )}
      {Object.keys(report.metadata).length > 0 && (
        <dl className="validation-metadata">
          {Object.entries(report.metadata).map(([k, v]) => (
            <div key={k}>
              <dt>{k}</dt>
              <dd className="mono">{v}</dd>
            </div>
          ))}
        </dl>
      )}
      {report.probe && (
        <div className="validation-probe">
          <p>
            Probe: max |difference| {report.probe.maxAbsDiff.toExponential(2)} (allowed {report.probe.tolerance}) · latency {report.probe.latencyMs.toFixed(2)} ms
          </p>
          <div className="action-bars" aria-label="Action distribution for the probe frame">
            {report.probe.actions.map((a) => (
              <div key={a.name} className="action-bar">
                <span className="action-name">{a.name}</span>
                <span className="action-track">
                  <span className="action-fill" style={{ width: `${(a.probability * 100).toFixed(1)}%` }} />
                </span>
                <span className="num">{(a.probability * 100).toFixed(1)}%</span>
              </div>
            ))}
          </div>
        </div>
      )}
    </div>
  )
}
