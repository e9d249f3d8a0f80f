/**
 * Restart rules as a user sees them: a real supervisor runs the fake trainer, which runs out of
 * memory above 64 envs and, in another game, hits a CUDA error; the journal is parsed with the
 * app's zod schemas and folded by the dashboard's run model, which must say which rule fired and
 * what it changed (GameCard.test.ts renders those into the card).
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseEventLine, Plan, type RunEvent } from '../src/shared/remoteProtocol'
import { startRun } from '../src/main/services/runs/supervisorControl'
import { applyEvents, createRunModel } from '../src/renderer/src/lib/runModel'
import { ruleSummary } from '../src/renderer/src/lib/restartRule'
import { createLocalRig, fakePlan, havePython, type LocalRig } from './support/localRig'

function journal(rig: LocalRig, runId: string): RunEvent[] {
  const lines = readFileSync(path.join(rig.root, 'runs', runId, 'events.jsonl'), 'utf8').split('\n').filter(Boolean)
  const parsed = lines.map(parseEventLine)
  expect(parsed.filter((p) => p.kind !== 'event')).toEqual([])
  return parsed.flatMap((p) => (p.kind === 'event' ? [p.event] : []))
}

describe.skipIf(!havePython())('restart rules on the game cards', () => {
  let rig: LocalRig
  beforeAll(() => {
    process.env.GANTRY_TICK_S = '0.1'
    rig = createLocalRig()
  })
  afterAll(() => {
    delete process.env.GANTRY_TICK_S
    rig.cleanup()
  })

  it('shows the OOM rule halving num_envs and the CUDA rule pausing the game', async () => {
    const plan = fakePlan([
      { game: 'breakout', target: 30 },
      { game: 'asterix', target: 400, eps: 10 },
    ])
    plan.games[0].trainer_args = { ...plan.games[0].trainer_args, fake_oom_above_envs: 64 }
    plan.games[1].trainer_args = { ...plan.games[1].trainer_args, fake_crash_at: 5, fake_crash_message: 'RuntimeError: CUDA error: an illegal memory access was encountered' }
    plan.restart = { max_restarts: 3, backoff_s: [0.2] }
    plan.restart_rules = { oom: { action: 'fewer_envs', factor: 0.5, min_envs: 16 } }
    expect(Plan.safeParse(plan).success).toBe(true)
    const runId = await startRun(rig.session, plan)

    const model = createRunModel(runId)
    await expect
      .poll(
        () => {
          applyEvents(model, journal(rig, runId))
          return [model.games.get('breakout')?.state, model.games.get('asterix')?.state]
        },
        { timeout: 60_000, interval: 250 },
      )
      .toEqual(['completed', 'paused'])

    const breakout = model.games.get('breakout')!
    expect(breakout.restarts.map((r) => [r.cause, r.rule, r.changes])).toEqual([
      ['oom', 'fewer_envs', [{ arg: 'num_envs', from: 256, to: 128 }]],
      ['oom', 'fewer_envs', [{ arg: 'num_envs', from: 128, to: 64 }]],
    ])
    expect(ruleSummary(breakout.restarts[1])).toBe('oom → fewer envs: num_envs 128 → 64') // the card's line (GameCard.test.ts)

    const asterix = model.games.get('asterix')!
    expect(asterix.pausedByRule?.cause).toBe('cuda')
    expect(asterix.restarts).toEqual([])
    expect(model.manualInterventions).toEqual([]) // a rule paused it, not a person
    expect(asterix.pausedByRule?.detail).toBe('RuntimeError: CUDA error: an illegal memory access was encountered')
  }, 90_000)
})
