import { describe, expect, it } from 'vitest'
import type { StreamState } from '../../../shared/api/runs'
import type { RunEvent } from '../../../shared/remoteProtocol'
import { createRunNotifier, UNREACHABLE_NOTICE_MS } from './runNotifier'

const base = { v: 1 as const, run: 'r1' }
const gpu = (seq: number, ts: number, util: number): RunEvent => ({ ...base, seq, ts, type: 'gpu', gpus: [{ index: 0, name: 'H200', util, mem_used: 1, mem_total: 2, temp: 40, power: 80 }] })

describe('run notifications', () => {
  it('announces completions, failures and the run end once each, and not for replayed history', () => {
    const n = createRunNotifier('gpu-1', 'r1', 1000_000)
    expect(n.onEvents([{ ...base, seq: 1, ts: 10, type: 'game_completed', game: 'pong', episodes: 5 }])).toEqual([]) // history from before we watched
    const live = n.onEvents([
      { ...base, seq: 2, ts: 2000, type: 'game_completed', game: 'breakout', episodes: 3000 },
      { ...base, seq: 3, ts: 2001, type: 'game_failed', game: 'enduro', cause: 'nan', detail: 'loss is nan' },
      { ...base, seq: 4, ts: 2002, type: 'run_completed', state: 'completed' },
      { ...base, seq: 5, ts: 2003, type: 'game_completed', game: 'breakout', episodes: 3000 },
      { ...base, seq: 6, ts: 2004, type: 'game_paused', game: 'pong' }, // a person paused it: not news
      { ...base, seq: 7, ts: 2005, type: 'game_paused', game: 'asterix', cause: 'cuda', detail: 'CUDA error: illegal memory access', rule: 'pause' },
    ])
    expect(live.map((x) => [x.level, x.title])).toEqual([
      ['success', 'breakout reached its target'],
      ['error', 'enduro failed'],
      ['success', 'Run completed'],
      ['error', 'asterix paused: cuda'],
    ])
  })

  it('warns once when the budget projection passes the limit and once when the budget is reached', () => {
    const n = createRunNotifier('gpu-1', 'r1', 0)
    const budget = (seq: number, status: 'ok' | 'over_projection' | 'reached', spent: number): RunEvent => ({ ...base, seq, ts: seq, type: 'budget', spent, projected: 60, limit: 50, unit: 'usd', status, on_limit: 'stop', active_hours: 1 })
    expect(n.onEvents([budget(1, 'ok', 1)])).toEqual([])
    const warned = n.onEvents([budget(2, 'over_projection', 10), budget(3, 'over_projection', 11)])
    expect(warned.map((x) => [x.level, x.title, x.body])).toEqual([['warning', 'Run projected over budget', '$10.00 spent, $60.00 projected, budget $50.00 on gpu-1. At the limit the run will stop cleanly.']])
    expect(n.onEvents([budget(4, 'reached', 50)]).map((x) => [x.level, x.title])).toEqual([['error', 'Budget reached']])
  })

  it('warns when the GPU idles while games wait, and when the host is silent for over 2 minutes', () => {
    const n = createRunNotifier('gpu-1', 'r1', 0)
    n.onEvents([{ ...base, seq: 1, ts: 1, type: 'game_queued', game: 'pong' }])
    expect(n.onEvents([gpu(2, 10, 3), gpu(3, 20, 2)])).toEqual([])
    expect(n.onEvents([gpu(4, 30, 1)]).map((x) => x.title)).toEqual(['GPU idle while games are queued'])
    const stream: StreamState = { instanceId: 'gpu-1', runId: 'r1', status: 'reconnecting', lastSeq: 4, lastHeardAt: 1_000, message: null, reattaches: 3 }
    expect(n.onTick(stream, 1_000 + UNREACHABLE_NOTICE_MS - 1)).toEqual([])
    expect(n.onTick(stream, 1_000 + UNREACHABLE_NOTICE_MS + 1).map((x) => x.title)).toEqual(['gpu-1 unreachable'])
    expect(n.onTick(stream, 1_000 + UNREACHABLE_NOTICE_MS + 5000)).toEqual([])
  })

  it('says once when a game keeps failing with the same cause, in words', () => {
    const n = createRunNotifier('gpu-1', 'r1', 0)
    const crash = (seq: number, attempt: number, detail = 'RuntimeError: envpool backend needs EnvPool'): RunEvent => ({ ...base, seq, ts: 100 + seq, type: 'game_restarting', game: 'Breakout', cause: 'crash', attempt, exit_code: 1, detail, delay_s: 5 })
    expect(n.onEvents([crash(1, 1)])).toEqual([])
    const notes = n.onEvents([crash(2, 2)])
    expect(notes.map((x) => [x.level, x.title])).toEqual([['error', 'Breakout keeps failing the same way']])
    expect(notes[0].body).toContain('RuntimeError: envpool backend needs EnvPool')
    expect(n.onEvents([crash(3, 3)])).toEqual([]) // once per game and cause
    expect(n.onEvents([crash(4, 4, 'CUDA out of memory')])).toEqual([]) // a different cause starts a new count
  })
})

