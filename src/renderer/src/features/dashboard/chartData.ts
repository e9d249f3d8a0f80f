/** Ring-buffered series → the few points recharts draws (LTTB to ~1.5k points per series). */
import { lttb } from '../../lib/lttb'
import type { SeriesRing } from '../../lib/ringBuffer'

export const POINTS_PER_SERIES = 1500

export function downsample(ring: SeriesRing, points = POINTS_PER_SERIES): Array<{ x: number; y: number }> {
  const { xs, ys } = ring.toArrays()
  return lttb(xs, ys, points)
}

export const GAME_COLOURS = ['#5b9cff', '#3ccf7e', '#f0b429', '#f25f5c', '#b07cff', '#2ec4c4', '#ff8c42', '#e56bb0', '#9bd35a', '#c9c9c9']
