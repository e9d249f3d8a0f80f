import type { GpuSample } from '../../../../shared/remoteProtocol'
import type { RunModel } from '../../lib/runModel'

const pct = (used: number | null, total: number | null) => (used !== null && total ? Math.round((used / total) * 100) : null)

function Meter({ label, name, value, text }: { label: string; name: string; value: number | null; text: string }) {
  return (
    <div className="gpu-meter">
      <span className="gpu-meter-label">{label}</span>
      <meter min={0} max={100} low={60} high={90} optimum={100} value={value ?? 0} aria-label={name}>
        {text}
      </meter>
      <span className="gpu-meter-value">{text}</span>
    </div>
  )
}

/** One gauge per GPU of the newest sample (per GPU per node on SLURM runs), with the games on it. */
export function GpuGauges({ model }: { model: RunModel }) {
  const sample: GpuSample[] = model.gpu.lastSample ?? []
  // SLURM runs say which games' jobs sampled each GPU; a single host places games by index.
  const gamesOn = (g: GpuSample) => g.games ?? [...model.games.values()].filter((m) => m.gpu === g.index && m.state === 'running').map((m) => m.game)
  return (
    <div className="gpu-gauges" role="list" aria-label="GPUs">
      {sample.map((g) => {
        const mem = pct(g.mem_used, g.mem_total)
        const games = gamesOn(g)
        const unused = model.gpu.placed !== null && !model.gpu.placed.includes(g.index)
        const label = g.node ? `GPU ${g.index} on ${g.node}` : `GPU ${g.index}`
        const id = g.node ? `${g.node}-${g.index}` : String(g.index)
        return (
          <div key={id} className="gpu-gauge" role="listitem" aria-label={label} data-testid={`gpu-gauge-${id}`}>
            <strong>
              {label} <span className="muted">{g.name}</span>
            </strong>
            <Meter label="util" name={`${label} utilisation`} value={g.util} text={g.util === null ? '—' : `${g.util}%`} />
            <Meter label="memory" name={`${label} memory`} value={mem} text={mem === null ? '—' : `${mem}%`} />
            <span className="muted">
              {g.temp === null ? '' : `${g.temp} °C · `}
              {unused ? 'not used by this run' : games.length ? games.join(', ') : 'no game running'}
            </span>
          </div>
        )
      })}
      {model.gpu.sharingProblem && (
        <p className="warn-text" role="note">
          Games sharing a GPU take turns instead of running side by side: {model.gpu.sharingProblem}
        </p>
      )}
    </div>
  )
}
