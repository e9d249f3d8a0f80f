// The golden journal the supervisor's tests also check, bundled as text by vite.
import golden from '../../../../remote/tests/fixtures/events.v1.jsonl?raw'
import { describe, expect, it } from 'vitest'
import { parseEventLine, type RunEvent } from '../../../shared/remoteProtocol'
import { evaluateCriteria } from './criteria'
import { applyEvents, createRunModel, gpuUtilisation } from './runModel'

const fixture = (): RunEvent[] =>
  golden
    .split('\n')
    .filter(Boolean)
    .map(parseEventLine)
    .flatMap((p) => (p.kind === 'event' ? [p.event] : []))

const byId = (model: ReturnType<typeof createRunModel>, nowS: number) => Object.fromEntries(evaluateCriteria(model, nowS).map((c) => [c.id, c]))

describe('success criteria from the golden journal', () => {
  it('reads the fixture run the way a user would', () => {
    const model = createRunModel('20251229-140000-a1b2')
    applyEvents(model, fixture())
    const c = byId(model, 1767090000)
    expect(model.ended).toBe('stopped')
    expect(c.targets.status).toBe('failed') // Enduro failed, MsPacman stopped
    expect(c.targets.detail).toMatch(/^1 of 10 games done; /)
    expect(c.targets.detail).toContain('Enduro failed')
    expect(c.targets.detail).toContain('MsPacman stopped')
    expect(c.gpu_errors.status).toBe('failed') // the driver went away after samples had arrived
    expect(c.gpu_errors.detail).toMatch(/couldn't communicate with the NVIDIA driver/)
    expect(c.gpu_util.status).toBe('met') // the one sample says 93%
    expect(gpuUtilisation(model)).toBe(93)
    expect(c.checkpoints.status).toBe('failed') // only MsPacman checkpointed
    expect(c.hands_off.status).toBe('failed')
    expect(c.hands_off.detail).toMatch(/Seaquest paused; slots changed to 4; run resumed/)
    expect(model.games.get('Pong')?.state).toBe('completed')
    expect(model.games.get('Enduro')?.restarts.map((r) => r.cause)).toEqual(['oom'])
  })

  it('applies each seq once: a replayed overlap changes nothing', () => {
    const model = createRunModel('r')
    const events = fixture()
    applyEvents(model, events.slice(0, 12))
    // The fixture repeats seq 17 (a transient heartbeat carries the last journaled seq): applied once.
    const newSeqs = new Set(events.map((e) => e.seq).filter((seq) => seq > 12)).size
    expect(applyEvents(model, events.slice(5))).toBe(newSeqs)
    expect(model.games.get('MsPacman')?.checkpoints).toBe(1)
    expect(model.games.get('MsPacman')?.episodesOverTime.length).toBe(2)
  })

  it('says "not applicable on CPU" instead of failing GPU criteria without a GPU', () => {
    const model = createRunModel('r')
    const base = { v: 1 as const, run: 'r' }
    applyEvents(model, [
      { ...base, seq: 1, ts: 0, type: 'run_started', plan_name: 'p', slots: 1, games: ['breakout'], resumed: false },
      { ...base, seq: 2, ts: 1, type: 'gpu_unavailable', reason: 'nvidia-smi not found' },
      { ...base, seq: 3, ts: 3600, type: 'progress', game: 'breakout', episodes: 50, target_episodes: 100, mean_return: 3, global_step: 1000, sps: 10, episodes_per_hour: 50 },
      { ...base, seq: 4, ts: 3600, type: 'checkpoint', game: 'breakout', file: 'c.pt', global_step: 1000 },
    ])
    const c = byId(model, 3600)
    expect(c.gpu_errors.status).toBe('na')
    expect(c.gpu_errors.detail).toMatch(/Not applicable on CPU/)
    expect(c.gpu_util.status).toBe('na')
    expect(c.time.status).toBe('on_track')
    expect(c.time.detail).toBe('2.0 h projected.') // 1 h elapsed + 50 episodes at 50/h
    expect(c.checkpoints.status).toBe('met')
    expect(c.hands_off.status).toBe('on_track')
  })

  it('weights GPU utilisation by time between samples', () => {
    const model = createRunModel('r')
    const gpu = (seq: number, ts: number, util: number): RunEvent => ({ v: 1, run: 'r', seq, ts, type: 'gpu', gpus: [{ index: 0, name: 'H100', util, mem_used: 1, mem_total: 2, temp: 50, power: 300 }] })
    // 100% for 90 s, then 0% for 10 s → 90%.
    applyEvents(model, [gpu(1, 0, 100), gpu(2, 90, 0), gpu(3, 100, 0)])
    expect(gpuUtilisation(model)).toBeCloseTo(90)
  })

  it('a game failing the same way again and again turns the targets and hands-off criteria red, with the reason in words', () => {
    const model = createRunModel('r')
    const b = { v: 1 as const, run: 'r' }
    const crash = (seq: number, attempt: number): RunEvent => ({ ...b, seq, ts: 100 + seq, type: 'game_restarting', game: 'Breakout', cause: 'crash', attempt, exit_code: 1, detail: 'RuntimeError: envpool backend needs EnvPool', delay_s: 5 })
    applyEvents(model, [
      { ...b, seq: 1, ts: 100, type: 'run_started', plan_name: 'Seed', slots: 2, games: ['Breakout', 'Pong'], resumed: false },
      crash(2, 1),
    ])
    expect(byId(model, 200).targets.status).toBe('on_track') // one crash is what restarts are for
    applyEvents(model, [crash(3, 2), crash(4, 3)])
    const c = byId(model, 200)
    expect(c.targets.status).toBe('failed')
    expect(c.targets.detail).toContain('Breakout failed the same way 3 times in a row: RuntimeError: envpool backend needs EnvPool')
    expect(c.hands_off.status).toBe('failed')
    expect(c.hands_off.detail).toContain('Breakout needs you')
  })
})

