import type { Plan } from '../../../../shared/remoteProtocol'

type Budget = NonNullable<Plan['budget']>

/** The run's budget: none, dollars (at the instance's hourly price) or hours; stop at it or only warn. */
export function BudgetEditor({ plan, onChange }: { plan: Plan; onChange(plan: Plan): void }) {
  const budget = plan.budget
  const set = (next: Budget | undefined) => {
    const { budget: _old, ...rest } = plan
    onChange(next ? { ...rest, budget: next } : rest)
  }
  return (
    <fieldset className="field-inline budget-editor" aria-label="Budget">
      <label>
        Budget
        <select aria-label="Budget unit" value={budget?.unit ?? ''} onChange={(e) => set(e.target.value ? { limit: budget?.limit ?? 50, on_limit: budget?.on_limit ?? 'stop', unit: e.target.value as Budget['unit'] } : undefined)}>
          <option value="">none</option>
          <option value="usd">dollars (instance price)</option>
          <option value="hours">hours (GPU-hours on a SLURM cluster)</option>
        </select>
      </label>
      {budget && (
        <>
          <input aria-label="Budget limit" type="number" min={0.01} step="any" value={budget.limit} onChange={(e) => set({ ...budget, limit: Math.max(0.01, Number(e.target.value) || 0.01) })} />
          <select aria-label="At the budget" value={budget.on_limit ?? 'stop'} onChange={(e) => set({ ...budget, on_limit: e.target.value as 'stop' | 'warn' })}>
            <option value="stop">stop cleanly at the budget</option>
            <option value="warn">only warn</option>
          </select>
        </>
      )}
    </fieldset>
  )
}
