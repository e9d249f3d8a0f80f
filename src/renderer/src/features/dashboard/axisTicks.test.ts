import { describe, expect, it } from 'vitest'
import { countAxis, timeAxis } from './axisTicks'

const labels = (axis: { ticks: number[]; format(v: number): string }) => axis.ticks.map((t) => axis.format(t))

describe('chart x-axis labels are never repeated', () => {
  const start = Date.UTC(2026, 10, 30, 20, 0, 0) / 1000
  it('a run a few seconds old gets seconds in its time labels', () => {
    for (const span of [3, 20, 45, 90, 600, 3 * 3600, 3 * 86400]) {
      const shown = labels(timeAxis(start + 7, start + 7 + span))
      expect(shown.length).toBeGreaterThan(0)
      expect(new Set(shown).size, `${span} s: ${shown.join(', ')}`).toBe(shown.length)
    }
  })
  it('step counts get the decimals their spacing needs', () => {
    for (const [min, max] of [
      [0, 7],
      [1000, 1100],
      [0, 2500],
      [12_000, 14_500],
      [0, 1_500_000],
      [2_000_000, 2_300_000],
    ]) {
      const shown = labels(countAxis(min, max))
      expect(new Set(shown).size, `${min}-${max}: ${shown.join(', ')}`).toBe(shown.length)
    }
    expect(labels(countAxis(0, 2500))).toEqual(['0', '0.5k', '1.0k', '1.5k', '2.0k', '2.5k'])
  })
})
