/**
 * X-axis ticks chosen here rather than by the chart: spaced at round intervals, with labels
 * precise enough that no two are the same (seconds appear when ticks are seconds apart; "1.5k"
 * rather than "2k" twice).
 */
export interface Axis {
  ticks: number[]
  format(value: number): string
}

const TIME_STEPS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400]

function ticksFrom(min: number, max: number, step: number): number[] {
  const ticks: number[] = []
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)))
  return ticks.length ? ticks : [min]
}

/** Unix-seconds axis with about `target` ticks. */
export function timeAxis(min: number, max: number, target = 5): Axis {
  const span = Math.max(max - min, 1)
  const step = TIME_STEPS_S.find((s) => span / s <= target) ?? Math.ceil(span / target / 86400) * 86400
  const options: Intl.DateTimeFormatOptions =
    step >= 86400 ? { month: 'short', day: 'numeric' } : step < 60 ? { hour: '2-digit', minute: '2-digit', second: '2-digit' } : { hour: '2-digit', minute: '2-digit' }
  return { ticks: ticksFrom(min, max, step), format: (ts) => new Date(ts * 1000).toLocaleString([], options) }
}

/** Count axis (steps) with about `target` ticks at 1, 2 or 5 × 10^k. */
export function countAxis(min: number, max: number, target = 5): Axis {
  const span = Math.max(max - min, 1)
  const rough = span / target
  const magnitude = 10 ** Math.floor(Math.log10(rough))
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => span / s <= target) ?? 10 * magnitude
  const unit = max >= 1e6 ? { div: 1e6, suffix: 'M' } : max >= 1e3 ? { div: 1e3, suffix: 'k' } : { div: 1, suffix: '' }
  const decimals = Math.max(0, Math.ceil(-Math.log10(step / unit.div) - 1e-9))
  return { ticks: ticksFrom(min, max, step), format: (v) => (v === 0 ? '0' : `${(v / unit.div).toFixed(decimals)}${unit.suffix}`) }
}
