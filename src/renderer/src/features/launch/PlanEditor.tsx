import type { Plan } from '../../../../shared/remoteProtocol'
import { BudgetEditor } from './BudgetEditor'
import { nameForGameCount } from './planName'

const BACKENDS = ['builtin', 'envpool', 'ale'] as const

/** A built-in plan, adjusted: remove games, change per-game targets and backends, and the slots. */
export function PlanEditor({ plan, onChange }: { plan: Plan; onChange(plan: Plan): void }) {
  const update = (index: number, patch: Partial<Plan['games'][number]>) => onChange({ ...plan, games: plan.games.map((g, i) => (i === index ? { ...g, ...patch } : g)) })
  return (
    <div className="plan-editor">
      <label className="field-inline">
        Slots (games at once)
        <input type="number" min={1} max={256} value={plan.slots} onChange={(e) => onChange({ ...plan, slots: Math.max(1, Math.min(256, Number(e.target.value) || 1)) })} />
      </label>
      <BudgetEditor plan={plan} onChange={onChange} />
      <table className="plan-games">
        <thead>
          <tr>
            <th>Game</th>
            <th>Backend</th>
            <th>Target episodes</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {plan.games.map((g, i) => (
            <tr key={g.game}>
              <td>{g.game}</td>
              <td>
                <select aria-label={`${g.game} backend`} value={g.backend ?? ''} onChange={(e) => update(i, { backend: (e.target.value || undefined) as Plan['games'][number]['backend'] })}>
                  <option value="">Atari: chosen at launch</option>
                  {BACKENDS.map((b) => (
                    <option key={b}>{b}</option>
                  ))}
                </select>
              </td>
              <td>
                <input aria-label={`${g.game} target episodes`} type="number" min={1} value={g.target_episodes} onChange={(e) => update(i, { target_episodes: Math.max(1, Math.floor(Number(e.target.value) || 1)) })} />
              </td>
              <td>
                <button className="icon-button" aria-label={`Remove ${g.game}`} disabled={plan.games.length === 1} onClick={() => onChange({ ...plan, name: nameForGameCount(plan.name, plan.games.length - 1), games: plan.games.filter((_, j) => j !== i) })}>
                  ×
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  )
}
