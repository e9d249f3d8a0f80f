/** Test helper: a short run of the real supervisor and PPO trainer (the .venv's Python) on a host root; each game exports a model and its episode recording. */
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { REPO_ROOT } from '../prerequisites'
import { VENV_PYTHON } from './onnxFixtures'

export interface RealGame {
  /** The plan's game name (a folder on the host). */
  game: string
  /** The environment it plays (default: the name). */
  env?: string
  backend: 'builtin' | 'ale'
  totalSteps: number
}

function cli(root: string, args: string[]): unknown {
  const r = spawnSync(VENV_PYTHON, ['-m', 'gantry_remote', ...args, '--root', root], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: path.join(REPO_ROOT, 'remote'), GANTRY_TICK_S: '0.2' } })
  if (r.status !== 0) throw new Error(`gantry_remote ${args[0]} failed: ${r.stdout}${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!)
}

/** Start the run, wait until every game has finished (at `totalSteps`), and return the run id. */
export async function finishedRealRun(root: string, games: RealGame[], timeoutMs = 240_000): Promise<string> {
  mkdirSync(root, { recursive: true })
  const plan = path.join(root, '..', 'real-plan.json')
  const small = { builtin: { num_envs: 8, num_steps: 32, minibatch_size: 128 }, ale: { num_envs: 2, num_steps: 16, minibatch_size: 32 } }
  writeFileSync(
    plan,
    JSON.stringify({
      name: 'watch test',
      slots: games.length,
      games: games.map((g) => ({ game: g.game, env: g.env ?? g.game, backend: g.backend, target_episodes: 1_000_000, trainer_args: { ...small[g.backend], update_epochs: 1, device: 'cpu', seed: 5, total_steps: g.totalSteps } })),
      restart: { max_restarts: 0, backoff_s: [1] },
    }),
  )
  const { run_id: runId } = cli(root, ['start', '--plan', plan]) as { run_id: string }
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const status = cli(root, ['status', '--run', runId, '--json']) as { state: string }
    if (status.state === 'completed') return runId
    if (status.state !== 'running') throw new Error(`run ${runId} ended ${status.state}: ${JSON.stringify(status).slice(0, 2000)}`)
    await new Promise((r) => setTimeout(r, 500))
  }
  cli(root, ['stop', '--run', runId])
  throw new Error(`run ${runId} did not finish in ${timeoutMs / 1000} s`)
}
