/**
 * The game backends an instance can train with, read from its doctor report, against what a
 * plan's games need: so the launch dialog never offers a plan whose every trainer would crash
 * ("envpool backend needs EnvPool") without a word.
 */
import type { DoctorReport } from '../../../shared/api/setup'
import type { Plan } from '../../../shared/remoteProtocol'

export type Backend = Plan['games'][number]['backend']
const ATARI: Backend[] = ['ale', 'envpool']

function imported(report: DoctorReport, module: string): boolean {
  const entry = (report.imports as Record<string, unknown>)[module]
  return typeof entry === 'object' && entry !== null && (entry as { ok?: unknown }).ok === true
}

export function availableBackends(report: DoctorReport): Backend[] {
  const listed = (report as { atari_backends?: unknown }).atari_backends
  if (Array.isArray(listed)) return listed.filter((b): b is Backend => b === 'ale' || b === 'envpool' || b === 'builtin')
  return [...(imported(report, 'ale_py') ? ['ale' as const] : []), ...(imported(report, 'envpool') ? ['envpool' as const] : []), 'builtin']
}

export interface BackendProblem {
  message: string
  /** A backend the instance has that can stand in for the missing one, or null. */
  missing: Backend
  fix: Backend | null
}

export function backendProblem(plan: Plan, available: Backend[]): BackendProblem | null {
  const missing = plan.games.filter((g) => !available.includes(g.backend))
  if (missing.length === 0) return null
  const backend = missing[0].backend
  const games = missing.filter((g) => g.backend === backend).map((g) => g.game)
  const fix = ATARI.includes(backend) ? (ATARI.find((b) => available.includes(b)) ?? null) : null
  const what = `This instance cannot import ${backend}, which ${games.length} game${games.length === 1 ? '' : 's'} of this plan use${games.length === 1 ? 's' : ''} (${games.join(', ')}). It has: ${available.join(', ')}.`
  const install = ATARI.includes(backend) ? ' Set up again on the Setup tab installs ale-py (EnvPool needs Linux x86_64 with CPython 3.11 or older).' : ''
  return { message: fix ? what : `${what}${install}`, missing: backend, fix }
}

export function withBackend(plan: Plan, from: Backend, to: Backend): Plan {
  return { ...plan, games: plan.games.map((g) => (g.backend === from ? { ...g, backend: to } : g)) }
}
