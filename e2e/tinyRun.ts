/** A tiny real training run on "This computer", driven through the gantry_remote CLI (real supervisor, real PPO trainer). */
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { expect, ROOT } from './fixtures'

export const VENV_PYTHON = process.env.GANTRY_TEST_PYTHON ?? path.join(ROOT, '.venv', 'bin', 'python')

export function gantryCli(root: string, args: string[]): Record<string, unknown> {
  const r = spawnSync(VENV_PYTHON, ['-m', 'gantry_remote', ...args, '--root', root], { cwd: path.join(ROOT, 'remote'), encoding: 'utf8', timeout: 60_000 })
  if (r.status !== 0) throw new Error(`gantry_remote ${args[0]} failed: ${r.stdout}${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>
}

/** Breakout to 2 episodes with 4 envs, run to completion; returns the run id. */
export async function finishedTinyRun(root: string, dir: string, name: string): Promise<string> {
  const plan = path.join(dir, 'plan.json')
  writeFileSync(plan, JSON.stringify({ name, slots: 1, games: [{ game: 'breakout', backend: 'builtin', target_episodes: 2, trainer_args: { num_envs: 4, device: 'cpu' } }] }))
  const runId = gantryCli(root, ['start', '--plan', plan]).run_id as string
  const deadline = Date.now() + 120_000
  while (Date.now() < deadline) {
    const status = gantryCli(root, ['status', '--run', runId, '--json'])
    if (status.state !== 'running') {
      expect(status.state).toBe('completed')
      return runId
    }
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`run ${runId} did not finish within 120 s`)
}
