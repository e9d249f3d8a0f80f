/**
 * A game whose trainer fails the same way each time (here: the backend it needs is missing) is
 * said in words on its card, notified, and turns the success criteria red while restarts remain,
 * instead of "restarting · 3 restarts" with the reason in a tooltip and criteria "on track".
 * Real supervisor, fake trainer (real processes) told to crash at start with that message.
 */
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { expect, requirePrerequisite, ROOT, test } from './fixtures'
import { launchCustomPlan, setUpThisComputer } from './steps'

const PYTHON = process.env.GANTRY_PYTHON ?? 'python3'
const GANTRY_TRAINER_COMMAND = JSON.stringify([PYTHON, path.join(ROOT, 'remote', 'tests', 'fake_trainer.py')])
test.use({ appEnv: { GANTRY_PROGRESS_INTERVAL_S: '0.3', GANTRY_ATTACH_HEARTBEAT_S: '1', GANTRY_TRAINER_COMMAND } })

const MESSAGE = 'RuntimeError: the envpool backend needs EnvPool, which is not installed'

test('a trainer failing the same way again is explained on its card, notified, and turns the criteria red', async ({ page, app }) => {
  requirePrerequisite(spawnSync(PYTHON, ['--version']).status === 0, 'Python 3', 'install python3 (or set GANTRY_PYTHON)')
  const plan = {
    name: 'e2e repeated failure',
    slots: 2,
    games: [
      { game: 'breakout', backend: 'builtin', target_episodes: 100000, trainer_args: { fake_crash_always: true, fake_crash_message: MESSAGE } },
      { game: 'asterix', backend: 'builtin', target_episodes: 100000, trainer_args: { fake_episodes_per_sec: 5 } },
    ],
    restart: { max_restarts: 20, backoff_s: [1] },
    gpu_sample_s: 1,
  }
  await setUpThisComputer(page)
  await launchCustomPlan(page, plan)

  const card = page.getByRole('article', { name: 'breakout card' })
  const words = card.getByTestId('repeated-failure')
  await expect(words).toContainText(/Failed the same way \d+ times in a row/, { timeout: 60_000 })
  await expect(words).toContainText(MESSAGE)
  await expect(page.getByRole('region', { name: 'Notifications' })).toContainText('breakout keeps failing the same way')
  const criteria = page.getByRole('region', { name: 'Success criteria' })
  await expect(criteria.locator('[data-criterion="targets"] .badge')).toHaveText('failed')
  await expect(criteria.locator('[data-criterion="targets"]')).toContainText(MESSAGE)
  await expect(criteria.locator('[data-criterion="hands_off"] .badge')).toHaveText('failed')
  await expect(page.getByRole('article', { name: 'asterix card' }).getByTestId('repeated-failure')).toHaveCount(0)
  await app.screenshot('repeated-failure')
})
