/** ETA, projections and cost: the arithmetic behind the dashboard's numbers. */
import type { GameModel, RunModel } from './runModel'

const FINAL = new Set(['completed', 'failed', 'stopped'])

/** Hours until a game reaches its target at its current rate; 0 when done, null when unknown. */
export function etaHours(game: Pick<GameModel, 'episodes' | 'target' | 'episodesPerHour' | 'state'>): number | null {
  if (game.state === 'completed') return 0
  if (game.target === null) return null
  const left = game.target - game.episodes
  if (left <= 0) return 0
  if (!game.episodesPerHour || game.episodesPerHour <= 0) return null
  return left / game.episodesPerHour
}

/** Seconds the run has been going (until it ended). */
export function uptimeS(model: Pick<RunModel, 'startedTs' | 'endedTs' | 'ended'>, nowS: number): number {
  if (model.startedTs === null) return 0
  const end = model.ended ? (model.endedTs ?? nowS) : nowS
  return Math.max(0, end - model.startedTs)
}

/**
 * Hours the unfinished games still need, with `slots` of them training at once: at least the
 * longest single game, at least the total work spread over the slots. Null while any unfinished
 * game has no rate yet (a projection from partial data would mislead).
 */
export function projectedRemainingHours(games: Iterable<Pick<GameModel, 'episodes' | 'target' | 'episodesPerHour' | 'state'>>, slots: number): number | null {
  let longest = 0
  let total = 0
  for (const g of games) {
    if (FINAL.has(g.state)) continue
    const eta = etaHours(g)
    if (eta === null) return null
    longest = Math.max(longest, eta)
    total += eta
  }
  return Math.max(longest, total / Math.max(1, slots))
}

export function costSoFar(hourlyPrice: number | null, uptimeSeconds: number): number | null {
  return hourlyPrice === null ? null : (hourlyPrice * uptimeSeconds) / 3600
}

export function projectedCost(hourlyPrice: number | null, uptimeSeconds: number, remainingHours: number | null): number | null {
  if (hourlyPrice === null || remainingHours === null) return null
  return hourlyPrice * (uptimeSeconds / 3600 + remainingHours)
}

export function formatDuration(hours: number | null): string {
  if (hours === null || !Number.isFinite(hours)) return '—'
  if (hours < 1 / 60) return '<1 min'
  if (hours < 1) return `${Math.round(hours * 60)} min`
  if (hours < 48) return `${Math.floor(hours)} h ${Math.round((hours % 1) * 60)} min`
  return `${(hours / 24).toFixed(1)} days`
}

export function formatMoney(value: number | null): string {
  return value === null ? '—' : `$${value.toFixed(2)}`
}
