/** Built-in plans shipped in resources/plans/*.json, validated before they are offered. */
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import type { BuiltinPlan } from '../../../shared/api/runs'
import { Plan } from '../../../shared/remoteProtocol'

function describe(plan: Plan): string {
  const episodes = plan.games.reduce((n, g) => n + g.target_episodes, 0)
  const backends = [...new Set(plan.games.map((g) => g.backend ?? 'Atari backend chosen at launch'))].join(', ')
  return `${plan.games.length} games (${backends}), ${plan.slots} at a time, ${episodes.toLocaleString('en-US')} episodes in all`
}

export async function loadBuiltinPlans(bundleDir: string, log: (line: string) => void): Promise<BuiltinPlan[]> {
  const dir = path.join(bundleDir, 'resources', 'plans')
  let names: string[]
  try {
    names = (await readdir(dir)).filter((n) => n.endsWith('.json')).sort()
  } catch {
    return []
  }
  const plans: BuiltinPlan[] = []
  for (const name of names) {
    try {
      const plan = Plan.parse(JSON.parse(await readFile(path.join(dir, name), 'utf8')))
      plans.push({ id: name.replace(/\.json$/, ''), name: plan.name, description: describe(plan), plan })
    } catch (error) {
      log(`[plans] skipped ${name}: ${error instanceof Error ? error.message : String(error)}`)
    }
  }
  // The quick demo first: it is what a new user should try.
  return plans.sort((a, b) => Number(b.id.includes('quick')) - Number(a.id.includes('quick')))
}
