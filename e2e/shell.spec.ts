import { existsSync } from 'node:fs'
import { expect, test } from './fixtures'

test('the app opens with "This computer" in the sidebar', async ({ page, app }) => {
  const sidebar = page.getByRole('navigation', { name: 'Instances' })
  await expect(sidebar.getByText('This computer', { exact: true })).toBeVisible()
  await expect(page.getByRole('heading', { level: 1, name: 'This computer' })).toBeVisible()
  const shot = await app.screenshot('shell')
  expect(existsSync(shot)).toBe(true)
})
