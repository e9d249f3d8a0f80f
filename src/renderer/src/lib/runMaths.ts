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

/**
 * Steps one episode takes where the game fixes it (the built-in Freeway ends after 2,500 frames,
 * one step each): before the first episode ends, its ETA comes from steps. Other games' episodes
 * last as long as the agent survives, so they wait for the first episode.
 */
export const KNOWN_EPISODE_STEPS: Readonly<Record<string, number>> = { freeway: 2500 }

/** Hours until a game with no finished episode reaches its target, from its step rate; null when its episode length is not known. */
export function etaHoursFromSteps(game: Pick<GameModel, 'game' | 'target' | 'globalStep' | 'sps'>): number | null {
  const perEpisode = KNOWN_EPISODE_STEPS[game.game]
  if (!perEpisode || game.target === null || !game.sps || game.sps <= 0) return null
  return Math.max(0, game.target * perEpisode - game.globalStep) / game.sps / 3600
}

/** What a game card shows besides the bar: honest for the state the game is in. */
export interface GameFigures {
  episodes: string
  /** Episodes per hour while it trains; null when it is not training (completed, paused, stopped, failed). */
  rate: string | null
  /** Time left, or why there is none. */
  eta: string
}

const count = (n: number | null) => (n === null ? '—' : n.toLocaleString('en-US'))

export function gameFigures(game: Pick<GameModel, 'game' | 'state' | 'episodes' | 'target' | 'episodesPerHour' | 'globalStep' | 'sps'>): GameFigures {
  const training = game.state === 'running' || game.state === 'restarting'
  const noEpisodeYet = training && game.episodes === 0
  const episodes = noEpisodeYet && game.globalStep > 0 ? `${count(game.globalStep)} steps · 0 / ${count(game.target)} episodes` : `${count(game.episodes)} / ${count(game.target)} episodes`
  const rate = training && game.episodesPerHour !== null && !noEpisodeYet ? `${count(Math.round(game.episodesPerHour))} /h` : null
  let eta: string
  switch (game.state) {
    case 'completed':
      eta = 'done'
      break
    case 'paused':
    case 'stopped':
    case 'failed':
      eta = game.state
      break
    case 'queued':
      eta = 'waiting for a slot'
      break
    default: {
      if (noEpisodeYet) {
        const fromSteps = etaHoursFromSteps(game)
        eta = fromSteps === null ? 'ETA after the first episode' : `ETA ${formatDuration(fromSteps)}`
      } else eta = `ETA ${formatDuration(etaHours(game))}`
    }
  }
  return { episodes, rate, eta }
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
