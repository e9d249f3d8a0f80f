/**
 * Restart rules and the budget as a user sees them: a game that runs out of memory above 64 envs
 * restarts with fewer (the card says which rule fired and what changed), and a budget of a few
 * seconds of active time stops the run cleanly (the header shows spent and the budget; a
 * notification says so). Real supervisor, fake trainer (real processes).
 */
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { expect, requirePrerequisite, ROOT, test } from './fixtures'
import { launchCustomPlan, setUpThisComputer } from './steps'

const PYTHON = process.env.GANTRY_PYTHON ?? 'python3'
const GANTRY_TRAINER_COMMAND = JSON.stringify([PYTHON, path.join(ROOT, 'remote', 'tests', 'fake_trainer.py')])
test.use({ appEnv: { GANTRY_PROGRESS_INTERVAL_S: '0.3', GANTRY_ATTACH_HEARTBEAT_S: '1', GANTRY_TRAINER_COMMAND } })

test('the OOM rule halves num_envs on the card, and the budget stops the run cleanly', async ({ page, app }) => {
  requirePrerequisite(spawnSync(PYTHON, ['--version']).status === 0, 'Python 3', 'install python3 (or set GANTRY_PYTHON)')
  const plan = {
    name: 'e2e rules and budget',
    slots: 2,
    games: [
      { game: 'breakout', backend: 'builtin', target_episodes: 100000, trainer_args: { fake_episodes_per_sec: 5, fake_oom_above_envs: 64 } },
      { game: 'asterix', backend: 'builtin', target_episodes: 100000, trainer_args: { fake_episodes_per_sec: 5 } },
    ],
    restart: { max_restarts: 5, backoff_s: [0.5] },
    gpu_sample_s: 1,
    budget: { limit: 8 / 3600, unit: 'hours', on_limit: 'stop' },
  }
  await setUpThisComputer(page)
  await launchCustomPlan(page, plan)

  const card = page.getByRole('article', { name: 'breakout card' })
  await expect(card.getByTestId('restart-rule')).toHaveText('Restart rule: oom → fewer envs: num_envs 128 → 64', { timeout: 60_000 })
  const budget = page.getByTestId('budget')
  await expect(budget).toContainText('spent')
  await expect(budget).toContainText('budget <1 min')
  await expect(budget).toHaveAttribute('data-status', 'reached', { timeout: 60_000 })
  await expect(page.getByRole('region', { name: 'Notifications' })).toContainText('Budget reached')
  // The spending chart: the supervisor's counts against the budget line (its limit, in hours).
  const spending = page.getByRole('figure', { name: 'Spending against the budget' })
  await expect(spending).toHaveAttribute('data-limit', String(8 / 3600))
  await expect(spending).not.toHaveAttribute('data-points', '0', { timeout: 10_000 })
  await expect(page.getByRole('article', { name: 'asterix card' })).toHaveAttribute('data-state', 'stopped', { timeout: 60_000 })
  await expect(card).toHaveAttribute('data-state', 'stopped')
  await app.screenshot('rules-and-budget')
})
