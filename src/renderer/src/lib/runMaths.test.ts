import { describe, expect, it } from 'vitest'
import type { RunEvent } from '../../../shared/remoteProtocol'
import { costSoFar, etaHours, formatDuration, gameFigures, projectedCost, projectedRemainingHours, uptimeS } from './runMaths'
import { applyEvents, createRunModel } from './runModel'

const g = (episodes: number, target: number, eph: number | null, state = 'running') => ({ episodes, target, episodesPerHour: eph, state: state as 'running' })

describe('ETA and cost maths', () => {
  it('computes a game ETA from its rate', () => {
    expect(etaHours(g(1000, 3000, 500))).toBe(4)
    expect(etaHours(g(3000, 3000, 500))).toBe(0)
    expect(etaHours(g(10, 3000, null))).toBeNull()
    expect(etaHours({ ...g(10, 3000, null), state: 'completed' as 'running' })).toBe(0)
  })

  it('projects the remaining time over the slots: never less than the longest game', () => {
    // 4 h + 2 h + 2 h of work on 2 slots: 4 h (the longest game bounds it).
    expect(projectedRemainingHours([g(1000, 3000, 500), g(0, 1000, 500), g(0, 1000, 500)], 2)).toBe(4)
    // 3 × 4 h on 2 slots: 6 h.
    expect(projectedRemainingHours([g(0, 2000, 500), g(0, 2000, 500), g(0, 2000, 500)], 2)).toBe(6)
    // Finished and failed games need nothing; a game without a rate makes it unknown.
    expect(projectedRemainingHours([g(5, 5, 1, 'completed'), g(0, 10, null, 'failed')], 1)).toBe(0)
    expect(projectedRemainingHours([g(0, 10, null)], 1)).toBeNull()
  })

  it('prices uptime and the projection at the hourly rate', () => {
    expect(costSoFar(2.5, 7200)).toBe(5)
    expect(costSoFar(null, 7200)).toBeNull()
    expect(projectedCost(2.5, 7200, 4)).toBe(15)
    expect(uptimeS({ startedTs: 100, endedTs: 400, ended: 'completed' }, 1000)).toBe(300)
    expect(uptimeS({ startedTs: 100, endedTs: null, ended: null }, 1000)).toBe(900)
    expect(formatDuration(1.5)).toBe('1 h 30 min')
    expect(formatDuration(0.25)).toBe('15 min')
  })
})

describe('a game card says only what is true for the state the game is in', () => {
  const base = { v: 1 as const, run: 'r', ts: 0 }
  const modelAfter = (events: Array<Record<string, unknown>>) => {
    const model = createRunModel('r')
    applyEvents(model, events.map((e, i) => ({ ...base, seq: i + 1, ...e })) as RunEvent[])
    return model
  }
  const progress = (game: string, episodes: number, step: number, sps: number | null, eph: number | null) => ({ type: 'progress', game, episodes, target_episodes: 300, mean_return: null, global_step: step, sps, episodes_per_hour: eph })

  it('a queued game shows its target from the plan', () => {
    const model = modelAfter([{ type: 'game_queued', game: 'asterix', target_episodes: 300 }])
    expect(gameFigures(model.games.get('asterix')!)).toEqual({ episodes: '0 / 300 episodes', rate: null, eta: 'waiting for a slot' })
  })

  it('paused, stopped and completed games show no ETA and no rate', () => {
    const model = modelAfter([
      progress('breakout', 100, 50_000, 900, 600),
      { type: 'game_paused', game: 'breakout' },
      progress('asterix', 120, 60_000, 900, 500),
      { type: 'game_stopped', game: 'asterix' },
      progress('seaquest', 300, 90_000, 900, 700),
      { type: 'game_completed', game: 'seaquest', episodes: 300 },
    ])
    expect(gameFigures(model.games.get('breakout')!)).toEqual({ episodes: '100 / 300 episodes', rate: null, eta: 'paused' })
    expect(gameFigures(model.games.get('asterix')!)).toEqual({ episodes: '120 / 300 episodes', rate: null, eta: 'stopped' })
    expect(gameFigures(model.games.get('seaquest')!)).toEqual({ episodes: '300 / 300 episodes', rate: null, eta: 'done' })
  })

  it('before its first episode a game shows steps, and an ETA only where its episode length is known', () => {
    const model = modelAfter([{ type: 'game_started', game: 'freeway', pid: 1, attempt: 1, resumed_from_checkpoint: false }, progress('freeway', 0, 20_000, 500, null)])
    model.games.get('freeway')!.target = 36 // 36 episodes × 2,500 steps = 90,000 steps; 70,000 left at 500/s = 140 s
    expect(gameFigures(model.games.get('freeway')!)).toEqual({ episodes: '20,000 steps · 0 / 36 episodes', rate: null, eta: 'ETA 2 min' })
    const breakout = modelAfter([{ type: 'game_started', game: 'breakout', pid: 1, attempt: 1, resumed_from_checkpoint: false }, progress('breakout', 0, 8_000, 500, null)])
    expect(gameFigures(breakout.games.get('breakout')!)).toEqual({ episodes: '8,000 steps · 0 / 300 episodes', rate: null, eta: 'ETA after the first episode' })
  })

  it('a training game shows its rate and ETA', () => {
    const model = modelAfter([{ type: 'game_started', game: 'breakout', pid: 1, attempt: 1, resumed_from_checkpoint: false }, progress('breakout', 100, 50_000, 900, 50)])
    expect(gameFigures(model.games.get('breakout')!)).toEqual({ episodes: '100 / 300 episodes', rate: '50 /h', eta: 'ETA 4 h 0 min' })
  })
})
