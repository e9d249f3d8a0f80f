/** Steps several specs share, written as a user does them. */
import { expect, type Page } from '@playwright/test'

/** From the first-run welcome: set up "This computer" and come back to the Training tab. */
export async function setUpThisComputer(page: Page): Promise<void> {
  const welcome = page.getByRole('region', { name: 'Welcome' })
  await welcome.getByRole('button', { name: 'Set up' }).click()
  await expect(page.getByRole('tab', { name: 'Setup' })).toHaveAttribute('aria-selected', 'true')
  await expect(page.getByRole('button', { name: 'Launch Training' })).toBeVisible({ timeout: 240_000 })
  await page.getByRole('tab', { name: 'Training' }).click()
}
