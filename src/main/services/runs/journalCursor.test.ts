import { describe, expect, it } from 'vitest'
import { createJournalCursor, reattachDelayMs } from './journalCursor'
import { createRunHistory } from './runHistory'
import { createLineSplitter } from '../host/lineSplitter'
import type { RunEvent } from '../../../shared/remoteProtocol'

describe('journal cursor (re-attach arithmetic)', () => {
  it('resumes after the last delivered seq and drops the overlap of a replay', () => {
    const cursor = createJournalCursor()
    expect(cursor.nextFromSeq()).toBe(1)
    const delivered: number[] = []
    for (const seq of [1, 2, 3, 4]) if (cursor.accept(seq)) delivered.push(seq)
    expect(cursor.nextFromSeq()).toBe(5)
    // The stream dropped; the host replays from an earlier point (e.g. a transient heartbeat's seq).
    for (const seq of [3, 4, 4, 5, 6]) if (cursor.accept(seq)) delivered.push(seq)
    expect(delivered).toEqual([1, 2, 3, 4, 5, 6])
  })

  it('follows a seq past lastSeq + 1 and resumes after it', () => {
    const cursor = createJournalCursor()
    cursor.accept(1)
    expect(cursor.accept(3)).toBe(true)
    expect(cursor.lastSeq).toBe(3)
    expect(cursor.nextFromSeq()).toBe(4)
  })

  it('backs off 0.5 s, 1 s, 2 s … up to 15 s', () => {
    expect([0, 1, 2, 3, 10].map(reattachDelayMs)).toEqual([500, 1000, 2000, 4000, 15000])
  })
})

describe('run history', () => {
  const progress = (seq: number): RunEvent => ({ v: 1, type: 'progress', ts: seq, run: 'r', seq, game: 'g', episodes: seq, target_episodes: 1_000_000, mean_return: null, global_step: seq, sps: null, episodes_per_hour: null })
  const queued = (seq: number): RunEvent => ({ v: 1, type: 'game_queued', ts: seq, run: 'r', seq, game: 'g' })

  it('returns events from a seq, keeps a bounded tail, and only the latest of the samples that left it', () => {
    const history = createRunHistory(10_000)
    history.append(Array.from({ length: 25_000 }, (_, i) => progress(i + 1)))
    expect(history.size).toBeLessThanOrEqual(10_000 + 4096 + 1)
    const recent = history.since(20_001)
    expect(recent.events.map((e) => e.seq)).toEqual(Array.from({ length: 5000 }, (_, i) => 20_001 + i))
    expect(recent.summarised).toBe(0)
    const all = history.since(1)
    expect(all.firstSeq).toBeGreaterThan(1)
    // The newest progress that left the tail, then the tail; everything else is counted, not sent.
    expect(all.events[0].seq).toBe(all.firstSeq - 1)
    expect(all.events[1].seq).toBe(all.firstSeq)
    expect(all.summarised + all.events.length).toBe(25_000)
  })

  it('bounds the kept state events too, counting what it lets go', () => {
    const history = createRunHistory(100, 50)
    history.append(Array.from({ length: 1000 }, (_, i) => queued(i + 1)))
    expect(history.size).toBeLessThanOrEqual(100 + 25 + 50)
    const all = history.since(1)
    expect(all.summarised + all.events.length).toBe(1000)
  })
})

describe('line splitter', () => {
  it('joins lines and UTF-8 characters split across chunks and drops a trailing partial line', () => {
    const lines: string[] = []
    const s = createLineSplitter((l) => lines.push(l))
    const bytes = Buffer.from('{"a":"é"}\n{"b":"∑"}\n{"partial')
    for (let i = 0; i < bytes.length; i += 3) s.push(bytes.subarray(i, i + 3))
    s.end()
    expect(lines).toEqual(['{"a":"é"}', '{"b":"∑"}'])
  })
})
