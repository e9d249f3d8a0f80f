/** Ring-buffered series → the few points recharts draws (LTTB to ~1k points per series). */
import { lttbBy } from '../../lib/lttb'
import type { SeriesRing } from '../../lib/ringBuffer'

export const POINTS_PER_SERIES = 1000

/** LTTB straight over the ring buffer (no copy of its 100k points per redraw). */
export function downsample(ring: SeriesRing, points = POINTS_PER_SERIES): Array<{ x: number; y: number }> {
  const x = (i: number) => ring.x(i)
  const y = (i: number) => ring.y(i)
  return lttbBy(ring.length, x, y, points).map((i) => ({ x: x(i), y: y(i) }))
}

export const GAME_COLOURS = ['#5b9cff', '#3ccf7e', '#f0b429', '#f25f5c', '#b07cff', '#2ec4c4', '#ff8c42', '#e56bb0', '#9bd35a', '#c9c9c9']
