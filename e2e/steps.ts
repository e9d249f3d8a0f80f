/** Steps several specs share, written as a user does them. */
import { expect, type Page } from '@playwright/test'
import { untilDone } from './progress'

/** From the first-run welcome: set up "This computer" and come back to the Training tab. */
export async function setUpThisComputer(page: Page): Promise<void> {
  const welcome = page.getByRole('region', { name: 'Welcome' })
  await welcome.getByRole('button', { name: 'Set up' }).click()
  await expect(page.getByRole('tab', { name: 'Setup' })).toHaveAttribute('aria-selected', 'true')
  // Set-up moves step by step (one pip install may be silent for minutes on a busy machine).
  await untilDone({
    what: 'set-up of This computer',
    done: () => page.getByRole('button', { name: 'Launch Training' }).isVisible(),
    progress: async () => (await page.locator('.setup-step').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-step')}:${r.getAttribute('data-status')}`))).join(' '),
    stallMs: 600_000,
    overallMs: 1_800_000,
  })
  await page.getByRole('tab', { name: 'Training' }).click()
}

/** Launch Training with a plan pasted as JSON (Custom plan), and wait for the dialog to close. */
export async function launchCustomPlan(page: Page, plan: object): Promise<void> {
  await page.getByRole('button', { name: 'Launch Training' }).click()
  const dialog = page.getByRole('dialog', { name: 'Launch Training' })
  await dialog.getByText('Custom plan (JSON)').click()
  await dialog.getByLabel('Plan JSON').fill(JSON.stringify(plan, null, 2))
  await dialog.getByRole('button', { name: 'Start training' }).click()
  await expect(dialog).toBeHidden()
}
