/** The run's spending over time against its budget line, and where the projection lands. */
import { useMemo } from 'react'
import { CartesianGrid, Line, LineChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import type { RunModel } from '../../lib/runModel'
import { formatDuration, formatMoney } from '../../lib/runMaths'
import { timeAxis } from './axisTicks'
import { downsample } from './chartData'

/** What the chart draws: the spent curve, the budget line and the projection, in the budget's unit. */
export function budgetChartData(model: RunModel) {
  const budget = model.budget
  if (!budget) return null
  const spent = downsample(model.budgetSpent)
  const format = budget.unit === 'usd' ? formatMoney : formatDuration
  const top = Math.max(budget.limit, budget.projected ?? 0, ...spent.map((p) => p.y)) * 1.1
  return { spent, limit: budget.limit, projected: budget.projected, overBudget: budget.projected !== null && budget.projected > budget.limit, format, top }
}

export function BudgetChart({ model, revision }: { model: RunModel; revision: number }) {
  const data = useMemo(() => budgetChartData(model), [model, revision])
  const axis = useMemo(() => (data && data.spent.length ? timeAxis(data.spent[0].x, data.spent[data.spent.length - 1].x) : null), [data])
  if (!data) return null
  const title = `Spending against the budget (${data.format(data.limit)})`
  return (
    <figure className="chart" aria-label="Spending against the budget" data-points={data.spent.length} data-limit={data.limit} data-projected={data.projected ?? ''}>
      <figcaption>{title}</figcaption>
      {data.spent.length && axis ? (
        <ResponsiveContainer width="100%" height={220}>
          <LineChart margin={{ top: 8, right: 12, bottom: 4, left: 0 }}>
            <CartesianGrid stroke="#2a303c" strokeDasharray="3 3" />
            <XAxis dataKey="x" type="number" domain={['dataMin', 'dataMax']} ticks={axis.ticks} tickFormatter={axis.format} stroke="#8b93a5" fontSize={11} allowDuplicatedCategory={false} />
            <YAxis domain={[0, data.top]} tickFormatter={(v) => data.format(Number(v))} stroke="#8b93a5" fontSize={11} width={64} />
            <Tooltip contentStyle={{ background: '#161a21', border: '1px solid #2a303c' }} labelFormatter={(v) => axis.format(Number(v))} formatter={(v) => data.format(Number(v))} />
            <ReferenceLine y={data.limit} stroke="#f25f5c" strokeDasharray="6 3" label={{ value: `budget ${data.format(data.limit)}`, fill: '#f25f5c', fontSize: 11, position: 'insideTopLeft' }} />
            {data.projected !== null && (
              <ReferenceLine y={data.projected} stroke={data.overBudget ? '#f0b429' : '#8b93a5'} strokeDasharray="2 4" label={{ value: `projected ${data.format(data.projected)}`, fill: data.overBudget ? '#f0b429' : '#8b93a5', fontSize: 11, position: 'insideBottomLeft' }} />
            )}
            <Line data={data.spent} dataKey="y" name="spent" stroke="#5b9cff" dot={false} isAnimationActive={false} strokeWidth={1.5} />
          </LineChart>
        </ResponsiveContainer>
      ) : (
        <p className="muted chart-empty">Waiting for the supervisor's first count…</p>
      )}
    </figure>
  )
}
