import { expect, test } from './fixtures'

test('the app opens on "This computer", listed by its backend, with the welcome and nothing gone wrong', async ({ page, app }) => {
  const sidebar = page.getByRole('navigation', { name: 'Instances' })
  // The list comes from the backend (instances.list over the transport): selected, connected.
  const thisComputer = sidebar.locator('[data-instance-id="local"]')
  await expect(thisComputer).toHaveAttribute('aria-current', 'page')
  await expect(thisComputer).toHaveAttribute('data-connection', 'connected')
  await expect(thisComputer.getByText('This computer', { exact: true })).toBeVisible()
  await expect(page.getByRole('heading', { level: 1, name: 'This computer' })).toBeVisible()
  const welcome = page.getByRole('region', { name: 'Welcome' })
  await expect(welcome).toBeVisible()
  await expect(welcome.getByRole('button', { name: 'Set up' })).toBeEnabled()
  // No error on the way up: no notification shown and the backend link is open.
  await expect(page.getByRole('region', { name: 'Notifications' }).locator('.toast')).toHaveCount(0)
  await expect(page.getByText('Reconnecting to the Gantry backend…')).toHaveCount(0)
  await app.screenshot('shell')
})
