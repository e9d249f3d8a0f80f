/**
 * Test rig for runs and terminals over the real local HostSession: a temp Gantry root, the real
 * gantry_remote CLI and supervisor, and the fake trainer (a real process without torch).
 * Prerequisites missing → the suite is skipped locally and fails under CI=true.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Plan } from '../../src/shared/remoteProtocol'
import { createLocalSession } from '../../src/main/services/local/localSession'
import type { HostSession } from '../../src/main/services/host/hostSession'
import { REPO_ROOT, requirePrerequisite } from './prerequisites'

export const PYTHON = process.env.GANTRY_PYTHON ?? 'python3'
export const FAKE_TRAINER = path.join(REPO_ROOT, 'remote', 'tests', 'fake_trainer.py')
/** The supervisor's knob for the trainer program (a plan cannot choose it): the fake trainer. */
export const FAKE_TRAINER_ENV = { GANTRY_TRAINER_COMMAND: JSON.stringify([PYTHON, FAKE_TRAINER]) }

/** Sessions created after this (they copy process.env) run the fake trainer. */
export function useFakeTrainer(): void {
  Object.assign(process.env, FAKE_TRAINER_ENV)
}

export function havePython(): boolean {
  return requirePrerequisite(spawnSync(PYTHON, ['--version']).status === 0, 'Python 3', 'install python3 (or set GANTRY_PYTHON)')
}

export interface LocalRig {
  root: string
  session: HostSession
  cleanup(): void
}

export function createLocalRig(): LocalRig {
  const root = mkdtempSync(path.join(os.tmpdir(), 'gantry-rig-'))
  useFakeTrainer()
  const session = createLocalSession({ root, remoteCodeDir: path.join(REPO_ROOT, 'remote'), python: PYTHON })
  return {
    root,
    session,
    cleanup() {
      // Stop any supervisor still running under this root (by the CLI, never by process name).
      spawnSync(PYTHON, ['-m', 'gantry_remote', 'stop', '--root', root, '--wait', '--grace', '2'], { cwd: path.join(REPO_ROOT, 'remote'), timeout: 30_000 })
      rmSync(root, { recursive: true, force: true })
    },
  }
}

/** A fast, deterministic plan for the fake trainer (see useFakeTrainer). */
export function fakePlan(games: Array<{ game: string; target: number; eps?: number }>, extra: Partial<Plan> = {}): Plan {
  return {
    name: 'fake trainer plan',
    slots: games.length,
    games: games.map((g) => ({ game: g.game, backend: 'builtin', target_episodes: g.target, trainer_args: { fake_episodes_per_sec: g.eps ?? 20, fake_metrics_s: 0.1 } })),
    gpu_sample_s: 1,
    ...extra,
  }
}
