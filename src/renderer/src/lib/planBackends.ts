/**
 * The game backends an instance can train with, read from its doctor report, against what a
 * plan's games need: so the launch dialog never offers a plan whose every trainer would crash
 * ("envpool backend needs EnvPool") without a word. An Atari game without a backend gets one at
 * launch (`start` prefers ale, then envpool: remote/gantry_remote/launch_backends.py).
 */
import type { DoctorReport } from '../../../shared/api/setup'
import type { Plan } from '../../../shared/remoteProtocol'

export type Backend = 'envpool' | 'ale' | 'builtin'
/** In the order `start` picks them for a game that names none. */
const ATARI: Backend[] = ['ale', 'envpool']
const INSTALL = 'Set up again on the Setup tab installs ale-py (EnvPool needs Linux x86_64 with CPython 3.11 or older).'

function imported(report: DoctorReport, module: string): boolean {
  const entry = (report.imports as Record<string, unknown>)[module]
  return typeof entry === 'object' && entry !== null && (entry as { ok?: unknown }).ok === true
}

export function availableBackends(report: DoctorReport): Backend[] {
  const listed = (report as { atari_backends?: unknown }).atari_backends
  if (Array.isArray(listed)) return listed.filter((b): b is Backend => b === 'ale' || b === 'envpool' || b === 'builtin')
  return [...(imported(report, 'ale_py') ? ['ale' as const] : []), ...(imported(report, 'envpool') ? ['envpool' as const] : []), 'builtin']
}

/** The backend `start` will give Atari games that name none, or null when the instance has no Atari backend. */
export function launchAtariBackend(available: Backend[]): Backend | null {
  return ATARI.find((b) => available.includes(b)) ?? null
}

export interface BackendProblem {
  message: string
  /** The backend the games name (null: they leave it to the launch, and there is none). */
  missing: Backend | null
  /** A backend the instance has that can stand in for the missing one, or null. */
  fix: Backend | null
}

const gamesPhrase = (games: string[]) => `${games.length} game${games.length === 1 ? '' : 's'} of this plan (${games.join(', ')})`

export function backendProblem(plan: Plan, available: Backend[]): BackendProblem | null {
  const atari = launchAtariBackend(available)
  const unnamed = plan.games.filter((g) => g.backend === undefined).map((g) => g.game)
  if (unnamed.length && !atari) {
    return { message: `This instance has no Atari backend (EnvPool or ale-py), which ${gamesPhrase(unnamed)} need. It has: ${available.join(', ')}. ${INSTALL}`, missing: null, fix: null }
  }
  const named = plan.games.find((g) => g.backend !== undefined && !available.includes(g.backend))
  if (!named?.backend) return null
  const backend = named.backend
  const games = plan.games.filter((g) => g.backend === backend).map((g) => g.game)
  const fix = ATARI.includes(backend) ? atari : null
  const what = `This instance cannot import ${backend}, which ${gamesPhrase(games)} use. It has: ${available.join(', ')}.`
  return { message: fix || !ATARI.includes(backend) ? what : `${what} ${INSTALL}`, missing: backend, fix }
}

export function withBackend(plan: Plan, from: Backend, to: Backend): Plan {
  return { ...plan, games: plan.games.map((g) => (g.backend === from ? { ...g, backend: to } : g)) }
}
