// Which game backends an instance has (from its doctor report) and what a plan needs from them:
// the launch dialog offers a plan the instance can run, or says exactly what to install.
import { describe, expect, it } from 'vitest'
import type { DoctorReport } from '../../../shared/api/setup'
import type { Plan } from '../../../shared/remoteProtocol'
import { availableBackends, backendProblem, launchAtariBackend, withBackend } from './planBackends'

const report = (imports: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  ({ os: 'Linux', arch: 'x86_64', disk: { path: '/', free_gb: 100, total_gb: 200 }, gpu: { nvidia_smi: null, gpus: [] }, imports, verdicts: [], ...extra }) as DoctorReport
const seed = (backend?: 'envpool' | 'ale' | 'builtin'): Plan =>
  ({ name: 'Seed', slots: 6, games: ['Pong', 'Breakout'].map((game) => ({ game, backend, target_episodes: 100 })) }) as Plan

describe('plan backends', () => {
  it('reads the backends from the doctor report (its own list when it has one)', () => {
    expect(availableBackends(report({ python: '3.11', ale_py: { ok: true }, envpool: { ok: false } }))).toEqual(['ale', 'builtin'])
    expect(availableBackends(report({ envpool: { ok: true }, ale_py: { ok: false } }))).toEqual(['envpool', 'builtin'])
    expect(availableBackends(report({}, { atari_backends: ['ale', 'builtin'] }))).toEqual(['ale', 'builtin'])
  })

  it('an EnvPool plan on a host with ale-py only: names the games and offers ale', () => {
    const p = backendProblem(seed('envpool'), ['ale', 'builtin'])
    expect(p?.message).toBe('This instance cannot import envpool, which 2 games of this plan (Pong, Breakout) use. It has: ale, builtin.')
    expect(p?.fix).toBe('ale')
    expect(withBackend(seed('envpool'), 'envpool', 'ale').games.map((g) => g.backend)).toEqual(['ale', 'ale'])
  })

  it('no Atari backend at all: says what to install', () => {
    const p = backendProblem(seed('envpool'), ['builtin'])
    expect(p?.fix).toBeNull()
    expect(p?.message).toContain('Set up again on the Setup tab installs ale-py')
  })

  it('Atari games that leave the backend to the launch get ale, else EnvPool, else a sentence saying what to install', () => {
    expect(backendProblem(seed(), ['ale', 'builtin'])).toBeNull()
    expect(launchAtariBackend(['envpool', 'ale', 'builtin'])).toBe('ale')
    expect(launchAtariBackend(['envpool', 'builtin'])).toBe('envpool')
    const p = backendProblem(seed(), ['builtin'])
    expect(p?.message).toBe('This instance has no Atari backend (EnvPool or ale-py), which 2 games of this plan (Pong, Breakout) need. It has: builtin. Set up again on the Setup tab installs ale-py (EnvPool needs Linux x86_64 with CPython 3.11 or older).')
    expect(p?.fix).toBeNull()
  })

  it('a plan the instance can run has no problem', () => {
    expect(backendProblem(seed('ale'), ['ale', 'builtin'])).toBeNull()
    expect(backendProblem(seed('builtin'), ['builtin'])).toBeNull()
  })
})
