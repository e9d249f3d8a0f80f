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
