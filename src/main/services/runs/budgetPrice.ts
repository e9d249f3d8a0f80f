/**
 * A budget in money is enforced by the supervisor on the host (the laptop may be asleep), which
 * knows time but not prices: at launch the plan's budget carries the instance's hourly price.
 */
import type { Plan } from '../../../shared/remoteProtocol'
import { RpcError } from '../../../shared/rpc'

export function withBudgetPrice(plan: Plan, hourlyPrice: number | null, instanceName: string, slurm = false): Plan {
  const budget = plan.budget
  if (!budget || budget.unit === 'hours' || budget.price_per_hour !== undefined) return plan
  if (hourlyPrice === null) {
    // On a SLURM cluster the price is per GPU-hour (slurm_budget.py counts the jobs' GPU-hours).
    const price = slurm ? 'price per GPU-hour' : 'hourly price'
    throw new RpcError('invalid_input', `This plan has a budget in dollars but ${instanceName} has no ${price}. Set the price in the instance settings, or give the budget in hours${slurm ? ' (GPU-hours)' : ''}.`)
  }
  return { ...plan, budget: { ...budget, price_per_hour: hourlyPrice } }
}
