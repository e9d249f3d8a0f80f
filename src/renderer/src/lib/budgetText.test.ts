// The dashboard's budget line, from the golden journal's budget event and from a run without prices.
import golden from '../../../../remote/tests/fixtures/events.v1.jsonl?raw'
import { describe, expect, it } from 'vitest'
import { parseEventLine, type RunEvent } from '../../../shared/remoteProtocol'
import { budgetText, budgetTitle } from './budgetText'
import { applyEvents, createRunModel } from './runModel'

const fixture = (): RunEvent[] => golden.split('\n').filter(Boolean).map(parseEventLine).flatMap((p) => (p.kind === 'event' ? [p.event] : []))

describe('budget on the dashboard', () => {
  it('shows spent, projected and the budget the supervisor counted', () => {
    const model = createRunModel('20251229-140000-a1b2')
    applyEvents(model, fixture())
    expect(model.budget).not.toBeNull()
    expect(budgetText(model.budget!)).toBe('$41.25 spent · $57.80 projected · budget $50.00')
    expect(budgetTitle(model.budget!)).toContain('will stop it cleanly')
  })

  it('a budget in hours, before there is a projection', () => {
    const [e] = [parseEventLine(JSON.stringify({ v: 1, ts: 1, run: 'r', seq: 1, type: 'budget', spent: 0.5, projected: null, limit: 2, unit: 'hours', status: 'ok', on_limit: 'warn', active_hours: 0.5 }))]
    expect(e.kind).toBe('event')
    if (e.kind !== 'event' || e.event.type !== 'budget') throw new Error('not a budget event')
    expect(budgetText(e.event)).toBe('30 min spent · projection after 2% of the episodes · budget 2 h 0 min')
  })

  it('a SLURM run says its budget counts the jobs\' GPU-hours', () => {
    const e = parseEventLine(JSON.stringify({ v: 1, ts: 1, run: 'r', seq: 1, type: 'budget', spent: 7.5, projected: 30, limit: 20, unit: 'usd', status: 'over_projection', on_limit: 'stop', active_hours: 2.5, gpu_hours: 2.5 }))
    if (e.kind !== 'event' || e.event.type !== 'budget') throw new Error('not a budget event')
    expect(budgetText(e.event)).toBe('$7.50 spent · $30.00 projected · budget $20.00')
    const ok = parseEventLine(JSON.stringify({ v: 1, ts: 1, run: 'r', seq: 1, type: 'budget', spent: 7.5, projected: 15, limit: 20, unit: 'usd', status: 'ok', on_limit: 'stop', active_hours: 2.5, gpu_hours: 2.5 }))
    if (ok.kind !== 'event' || ok.event.type !== 'budget') throw new Error('not a budget event')
    expect(budgetTitle(ok.event)).toBe("Counted from the SLURM jobs' GPU-hours (2.50 GPU-h) at the instance's price per GPU-hour.")
  })

  it('a host that sends NaN or a negative spend is refused, not shown', () => {
    expect(parseEventLine('{"v":1,"ts":1,"run":"r","seq":1,"type":"budget","spent":-1,"projected":null,"limit":2,"unit":"hours","status":"ok","on_limit":"warn","active_hours":0}').kind).toBe('invalid')
  })
})
