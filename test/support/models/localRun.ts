/** Test helper: a finished run on "This computer" made by the real supervisor and the fake trainer. */
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { REPO_ROOT } from '../prerequisites'

const FAKE_TRAINER = path.join(REPO_ROOT, 'remote', 'tests', 'fake_trainer.py')

function cli(root: string, args: string[]): unknown {
  const r = spawnSync('python3', ['-m', 'gantry_remote', ...args, '--root', root], {
    encoding: 'utf8',
    // The supervisor runs the fake trainer through its environment knob (a plan cannot choose the program).
    env: { ...process.env, PYTHONPATH: path.join(REPO_ROOT, 'remote'), GANTRY_TRAINER_COMMAND: JSON.stringify(['python3', FAKE_TRAINER]) },
  })
  if (r.status !== 0) throw new Error(`gantry_remote ${args[0]} failed: ${r.stdout}${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!)
}

export async function finishedFakeRun(root: string, games = ['breakout', 'freeway']): Promise<string> {
  mkdirSync(root, { recursive: true })
  const plan = path.join(root, '..', 'plan.json')
  writeFileSync(
    plan,
    JSON.stringify({
      name: 'models test',
      slots: games.length,
      games: games.map((game) => ({ game, backend: 'builtin', target_episodes: 30 })),
      restart: { max_restarts: 1, backoff_s: [1] },
    }),
  )
  const { run_id: runId } = cli(root, ['start', '--plan', plan]) as { run_id: string }
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const { state } = cli(root, ['status', '--run', runId, '--json']) as { state: string }
    if (state !== 'running') return runId
    await new Promise((r) => setTimeout(r, 300))
  }
  throw new Error(`run ${runId} did not finish in 30 s`)
}
