import { describe, expect, it } from 'vitest'
import { lttb, lttbIndices } from './lttb'
import { SeriesRing } from './ringBuffer'

describe('LTTB downsampling', () => {
  it('keeps first, last and the spike of a long flat series', () => {
    const n = 100_000
    const xs = Float64Array.from({ length: n }, (_, i) => i)
    const ys = Float64Array.from({ length: n }, (_, i) => (i === 54_321 ? 1000 : Math.sin(i / 5000)))
    const points = lttb(xs, ys, 1500)
    expect(points).toHaveLength(1500)
    expect(points[0]).toEqual({ x: 0, y: ys[0] })
    expect(points.at(-1)).toEqual({ x: n - 1, y: ys[n - 1] })
    expect(points.some((p) => p.x === 54_321 && p.y === 1000)).toBe(true)
    // Strictly increasing x: one point per bucket, in order.
    for (let i = 1; i < points.length; i++) expect(points[i].x).toBeGreaterThan(points[i - 1].x)
  })

  it('returns short series unchanged', () => {
    expect(lttbIndices([1, 2, 3], [3, 2, 1], 1000)).toEqual([0, 1, 2])
  })
})

describe('series ring buffer', () => {
  it('keeps the newest `capacity` points, oldest first', () => {
    const ring = new SeriesRing(4)
    for (let i = 1; i <= 6; i++) ring.push(i, i * 10)
    expect(ring.length).toBe(4)
    expect(Array.from(ring.toArrays().xs)).toEqual([3, 4, 5, 6])
    expect(ring.last()).toEqual({ x: 6, y: 60 })
  })
})
