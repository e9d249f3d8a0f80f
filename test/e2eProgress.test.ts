// The e2e suite's long waits (e2e/progress.ts): slow but moving work passes, a stall fails early
// with what was last seen, and endless motion still ends at the ceiling.
import { describe, expect, it } from 'vitest'
import { untilDone } from '../e2e/progress'

describe('untilDone', () => {
  it('waits as long as progress keeps moving, past what a fixed timeout would allow', async () => {
    let n = 0
    await untilDone({ what: 'slow work', done: async () => n >= 20, progress: async () => String(++n), stallMs: 50, overallMs: 5000, pollMs: 10 })
    expect(n).toBeGreaterThanOrEqual(20)
  })

  it('fails soon after progress stops, naming what it last saw', async () => {
    const started = Date.now()
    let n = 0
    const stalled = untilDone({ what: 'a stuck run', done: async () => false, progress: async () => `episodes ${Math.min(++n, 3)}`, stallMs: 100, overallMs: 10_000, pollMs: 10 })
    await expect(stalled).rejects.toThrow(/a stuck run: no progress for 0 s \(last seen: episodes 3\)/)
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('ends at the overall ceiling even while it keeps moving', async () => {
    let n = 0
    await expect(untilDone({ what: 'endless', done: async () => false, progress: async () => String(++n), stallMs: 1000, overallMs: 100, pollMs: 10 })).rejects.toThrow(/endless: not done after 0 min although it kept moving/)
  })
})
