/**
 * The launch dialog shows which game backends the instance has and never offers, without a word,
 * a plan it cannot run: on This computer (ale-py, no EnvPool) the seed's Atari games get ale, a
 * game set to EnvPool gets a sentence naming it and a one-click switch to ale; the quick demo is fine.
 */
import { existsSync } from 'node:fs'
import { expect, requirePrerequisite, test, TEST_PYTHON } from './fixtures'
import { setUpThisComputer } from './steps'

test.use({ appEnv: { GANTRY_SETUP_PYTHON: TEST_PYTHON } })

test('launch dialog: the backends this instance has, and a plan it lacks one for is fixed in one click', async ({ page, app }) => {
  requirePrerequisite(existsSync(TEST_PYTHON) || TEST_PYTHON === 'python3', 'Python with torch', 'bash .ci/run (creates .venv with CPU torch)')
  await setUpThisComputer(page)
  await page.getByRole('button', { name: 'Launch Training' }).click()
  const dialog = page.getByRole('dialog', { name: 'Launch Training' })
  const check = dialog.getByTestId('backend-check')
  await expect(check).toContainText('This instance can train with: ale, builtin.', { timeout: 180_000 })
  await expect(check.getByRole('alert')).toHaveCount(0) // the quick demo is built-in games
  const start = dialog.getByRole('button', { name: 'Start training' })
  await expect(start).toBeEnabled()

  // The seed names no backend: the launch will use ale here.
  await dialog.getByRole('radio', { name: /Seed/ }).check()
  await expect(check).toContainText('Atari games that name no backend will use ale.')
  await expect(check.getByRole('alert')).toHaveCount(0)
  // A game set to EnvPool, which this computer lacks: named, Start disabled, one click to ale.
  await dialog.getByRole('combobox', { name: 'Pong backend' }).selectOption('envpool')
  const alert = check.getByRole('alert')
  await expect(alert).toContainText('This instance cannot import envpool, which 1 game of this plan (Pong) use.')
  await expect(start).toBeDisabled()
  await app.screenshot('launch-backend-missing')
  await alert.getByRole('button', { name: 'Use ale for them' }).click()
  await expect(dialog.getByRole('combobox', { name: 'Pong backend' })).toHaveValue('ale')
  await expect(alert).toHaveCount(0)
  await expect(start).toBeEnabled()
})
