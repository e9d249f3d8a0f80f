// The spending chart from journal lines parsed with the app's schemas: one point per budget count,
// the budget line at the limit, and the projection marked when it lands above the budget.
import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { parseEventLine, type RunEvent } from '../../../../shared/remoteProtocol'
import { applyEvents, createRunModel } from '../../lib/runModel'
import { BudgetChart, budgetChartData } from './BudgetChart'

const run = '20251229-140000-a1b2'
const parse = (lines: object[]): RunEvent[] => lines.map((l) => parseEventLine(JSON.stringify(l))).flatMap((p) => (p.kind === 'event' ? [p.event] : []))
const count = (seq: number, ts: number, spent: number, projected: number | null, status = 'ok') =>
  ({ v: 1, ts, run, seq, type: 'budget', spent, projected, limit: 50, unit: 'usd', status, on_limit: 'stop', active_hours: spent / 2 })

describe('BudgetChart', () => {
  it('draws spent over time against the budget line, with the projection above it flagged', () => {
    const model = createRunModel(run)
    applyEvents(model, parse([count(1, 1000, 5, 40), count(2, 1060, 12, 48), count(3, 1120, 20, 61, 'over_projection')]))
    const data = budgetChartData(model)!
    expect(data.spent).toEqual([{ x: 1000, y: 5 }, { x: 1060, y: 12 }, { x: 1120, y: 20 }])
    expect(data.limit).toBe(50)
    expect(data.projected).toBe(61)
    expect(data.overBudget).toBe(true)
    expect(data.top).toBeCloseTo(61 * 1.1)
    const html = renderToStaticMarkup(createElement(BudgetChart, { model, revision: 3 }))
    expect(html).toContain('aria-label="Spending against the budget"')
    expect(html).toContain('data-points="3"')
    expect(html).toContain('data-limit="50"')
    expect(html).toContain('Spending against the budget ($50.00)')
  })

  it('shows nothing for a run without a budget, and waits for the first count of one with a budget', () => {
    const none = createRunModel(run)
    expect(budgetChartData(none)).toBeNull()
    expect(renderToStaticMarkup(createElement(BudgetChart, { model: none, revision: 0 }))).toBe('')
    const hours = createRunModel(run)
    applyEvents(hours, parse([{ ...count(1, 1000, 0, null), unit: 'hours', limit: 2 }]))
    const data = budgetChartData(hours)!
    expect(data.projected).toBeNull()
    expect(data.overBudget).toBe(false)
    expect(data.format(2)).toBe('2 h 0 min')
  })
})
