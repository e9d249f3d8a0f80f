import { describe, expect, it } from 'vitest'
import type { Plan } from '../../../shared/remoteProtocol'
import { withBudgetPrice } from './budgetPrice'

const plan: Plan = { name: 'p', slots: 1, games: [{ game: 'breakout', backend: 'builtin', target_episodes: 5 }] }

describe('the instance price goes into a money budget at launch', () => {
  it('fills price_per_hour from the instance, keeps a plan without a budget or in hours as it is', () => {
    expect(withBudgetPrice({ ...plan, budget: { limit: 50, unit: 'usd', on_limit: 'stop' } }, 2.5, 'gpu-1').budget).toEqual({ limit: 50, unit: 'usd', on_limit: 'stop', price_per_hour: 2.5 })
    expect(withBudgetPrice(plan, 2.5, 'gpu-1')).toBe(plan)
    const hours: Plan = { ...plan, budget: { limit: 10, unit: 'hours' } }
    expect(withBudgetPrice(hours, null, 'gpu-1')).toBe(hours)
  })

  it('refuses a money budget on an instance without a price, saying what to do', () => {
    expect(() => withBudgetPrice({ ...plan, budget: { limit: 50, unit: 'usd' } }, null, 'gpu-1')).toThrow(/gpu-1 has no hourly price. Set the price in the instance settings, or give the budget in hours/)
    expect(() => withBudgetPrice({ ...plan, budget: { limit: 50, unit: 'usd' } }, null, 'cluster', true)).toThrow(/cluster has no price per GPU-hour. Set the price in the instance settings, or give the budget in hours \(GPU-hours\)/)
  })
})
