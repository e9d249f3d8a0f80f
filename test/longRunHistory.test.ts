/**
 * A run whose journal outgrows main's bounded history (the bound is lowered through the runs
 * service's `historyLimit`; the events are the real supervisor's and fake trainer's): a window
 * that back-fills from `runs.history`, mid-run and after the end, must fold to exactly the state
 * the whole journal implies (plan name, slots, start, game states, episodes, rates, restarts,
 * checkpoints, models, event count), as the dashboard computes it (src/renderer/src/lib/runModel).
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CallContext } from '../src/shared/contract'
import { parseEventLine, type RunEvent } from '../src/shared/remoteProtocol'
import { createEventBus } from '../src/main/services/eventBus'
import { createHostRegistry } from '../src/main/services/host/hostRegistry'
import { createRunsService } from '../src/main/services/runs/runsService'
import { startRun } from '../src/main/services/runs/supervisorControl'
import { applyEvents, createRunModel, type RunModel } from '../src/renderer/src/lib/runModel'
import { createLocalRig, fakePlan, havePython, type LocalRig } from './support/localRig'

const ctx: CallContext = { connectionId: 'test', transport: 'ipc', signal: new AbortController().signal }
const BOUND = 30

function journal(rig: LocalRig, runId: string, upToSeq: number): RunEvent[] {
  const lines = readFileSync(path.join(rig.root, 'runs', runId, 'events.jsonl'), 'utf8').split('\n').filter(Boolean)
  return lines.map(parseEventLine).flatMap((p) => (p.kind === 'event' && p.event.seq <= upToSeq ? [p.event] : []))
}

/** What the dashboard shows, minus chart series (those keep only the tail by design). */
function shown(model: RunModel) {
  return {
    planName: model.planName,
    slots: model.slots,
    order: model.order,
    startedTs: model.startedTs,
    ended: model.ended,
    endedTs: model.endedTs,
    lastSeq: model.lastSeq,
    eventCount: model.eventCount,
    manualInterventions: model.manualInterventions,
    gpu: { names: model.gpu.names, memTotal: model.gpu.memTotal, unavailable: model.gpu.unavailable },
    games: [...model.games.values()].map((g) => ({
      game: g.game,
      state: g.state,
      episodes: g.episodes,
      target: g.target,
      meanReturn: g.meanReturn,
      globalStep: g.globalStep,
      episodesPerHour: g.episodesPerHour,
      restarts: g.restarts,
      checkpoints: g.checkpoints,
      models: g.models,
      failure: g.failure,
    })),
  }
}

describe.skipIf(!havePython())('a run longer than the history bound', () => {
  let rig: LocalRig
  const saved = { GANTRY_TICK_S: process.env.GANTRY_TICK_S, GANTRY_PROGRESS_INTERVAL_S: process.env.GANTRY_PROGRESS_INTERVAL_S }
  beforeAll(() => {
    // The supervisor's own knobs (read from the local session's environment, so set first):
    // progress every 0.2 s instead of 30 s, so a short run writes a long journal.
    Object.assign(process.env, { GANTRY_TICK_S: '0.1', GANTRY_PROGRESS_INTERVAL_S: '0.2' })
    rig = createLocalRig()
  })
  afterAll(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
    rig.cleanup()
  })

  it('back-fills a reloaded window to the exact state of the whole journal, mid-run and at the end', async () => {
    const plan = fakePlan([
      { game: 'breakout', target: 400, eps: 20 },
      { game: 'seaquest', target: 300, eps: 40 },
      { game: 'freeway', target: 200, eps: 40 },
    ])
    plan.slots = 2 // one game waits queued at first
    plan.games[1].trainer_args = { ...plan.games[1].trainer_args, fake_crash_at: 60, fake_ckpt_every: 50 }
    plan.restart = { max_restarts: 3, backoff_s: [0.2] }
    const runId = await startRun(rig.session, plan)
    const bus = createEventBus()
    const runs = createRunsService({ bus, hosts: createHostRegistry(rig.session), bundleDir: rig.root, instanceName: () => 'This computer', notify: () => {}, log: () => {}, historyLimit: BOUND })
    const delivered: RunEvent[] = []
    const off = bus.listen('runs.events', (batch) => void delivered.push(...batch.events))
    const reload = async () => {
      const page = await runs.api['runs.history']({ instanceId: 'local', runId, fromSeq: 1 }, ctx)
      const model = createRunModel(runId)
      model.eventCount += page.summarised
      applyEvents(model, page.events)
      return { page, model }
    }
    try {
      await runs.api['runs.watch']({ instanceId: 'local', runId }, ctx)
      // Mid-run: the journal has passed the bound several times over, games still train.
      await expect.poll(() => delivered.length, { timeout: 30_000 }).toBeGreaterThan(BOUND * 3)
      const mid = await reload()
      expect(mid.model.ended).toBeNull()
      expect(mid.page.events.length).toBeLessThan(mid.model.lastSeq)
      const midWhole = createRunModel(runId)
      applyEvents(midWhole, journal(rig, runId, mid.model.lastSeq))
      expect(shown(mid.model)).toEqual(shown(midWhole))

      await expect.poll(() => delivered.some((e) => e.type === 'run_completed'), { timeout: 60_000 }).toBe(true)
      const end = await reload()
      const whole = createRunModel(runId)
      applyEvents(whole, journal(rig, runId, end.model.lastSeq))
      expect(end.page.summarised).toBeGreaterThan(0)
      expect(whole.games.get('seaquest')!.restarts.length).toBeGreaterThan(0)
      expect(shown(end.model)).toEqual(shown(whole))
      expect(end.model.eventCount).toBe(end.model.lastSeq)
    } finally {
      off()
      runs.dispose()
    }
  }, 120_000)
})
