/**
 * A newcomer's first hour (issue #17), at the two window sizes people use (1440×900 and
 * 1024×700): every main screen passes an accessibility check (axe: no serious or critical
 * violation) and is saved as a screenshot; dialogs close on Escape and give focus back; one
 * primary action per screen; the numbers and states a new user reads are true.
 */
import AxeBuilder from '@axe-core/playwright'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Locator, Page } from '@playwright/test'
import { expect, requirePrerequisite, ROOT, TEST_PYTHON, test, type AppHandle } from './fixtures'
import { setUpThisComputer } from './steps'

const SIZES = [
  { name: '1440x900', width: 1440, height: 900 },
  { name: '1024x700', width: 1024, height: 700 },
] as const

// A home with no ~/.ssh/config: what a new user on a fresh machine has.
const HOME = mkdtempSync(path.join(os.tmpdir(), 'gantry-e2e-home-'))
// The fake trainer (a real process, no torch) stands in for PPO: the host decides the program.
const GANTRY_TRAINER_COMMAND = JSON.stringify([TEST_PYTHON, path.join(ROOT, 'remote', 'tests', 'fake_trainer.py')])
test.use({ appEnv: { HOME, GANTRY_PROGRESS_INTERVAL_S: '0.3', GANTRY_ATTACH_HEARTBEAT_S: '1', GANTRY_TRAINER_COMMAND } })

async function expectAccessible(page: Page, screen: string): Promise<void> {
  const results = await new AxeBuilder({ page }).analyze()
  const bad = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${screen}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  expect(bad).toEqual([])
}

/** Each size: the screen passes axe and is saved as `<name>-<size>.png`. */
async function checkScreen(page: Page, app: AppHandle, name: string, ready: () => Promise<void>): Promise<void> {
  for (const size of SIZES) {
    await page.setViewportSize({ width: size.width, height: size.height })
    await ready()
    await expectAccessible(page, `${name} at ${size.name}`)
    await app.screenshot(`${name}-${size.name}`)
  }
}

/** True when nothing covers the middle of the element (a toast over a dialog's button fails this). */
async function uncovered(target: Locator): Promise<boolean> {
  return target.evaluate((el) => {
    const r = el.getBoundingClientRect()
    const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2)
    return top !== null && (top === el || el.contains(top))
  })
}

function cli(args: string[], root: string): Record<string, unknown> {
  const r = spawnSync(TEST_PYTHON, ['-m', 'gantry_remote', ...args, '--root', root], {
    cwd: path.join(ROOT, 'remote'),
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, GANTRY_TRAINER_COMMAND },
  })
  if (r.status !== 0) throw new Error(`gantry_remote ${args[0]} failed: ${r.stdout}${r.stderr}`)
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>
}

function fakePlan(name: string, games: Array<[string, number]>, slots: number) {
  return {
    name,
    slots,
    games: games.map(([game, target]) => ({ game, backend: 'builtin', target_episodes: target, trainer_args: { fake_episodes_per_sec: 4, fake_metrics_s: 0.2 } })),
    gpu_sample_s: 1,
  }
}

test('first screens: welcome, How it works, the wizard and the ssh-config import, by keyboard, at both sizes', async ({ page, app }) => {
  requirePrerequisite(spawnSync(TEST_PYTHON, ['--version']).status === 0, 'Python 3', 'install python3 (or set GANTRY_PYTHON)')
  const welcome = page.getByRole('region', { name: 'Welcome' })
  await checkScreen(page, app, 'welcome', () => expect(welcome).toBeVisible())
  // One primary action: Set up (the only possible step); the demo waits, secondary, until then.
  await expect(welcome.locator('.button-primary')).toHaveCount(1)
  await expect(welcome.locator('.button-primary')).toHaveText('Set up')
  await expect(page.getByRole('button', { name: 'Set up now', exact: true })).toBeVisible()

  // How it works: Escape closes it and focus goes back to its button.
  const howButton = page.getByRole('button', { name: 'How it works' })
  await howButton.click()
  await expect(page.getByRole('dialog', { name: 'How it works' })).toBeVisible()
  await expectAccessible(page, 'How it works')
  await page.keyboard.press('Escape')
  await expect(page.getByRole('dialog', { name: 'How it works' })).toBeHidden()
  await expect(howButton).toBeFocused()

  // The wizard: an ssh command pasted into Host fills host, user and port; so does user@host:port typed in.
  const addButton = page.getByRole('button', { name: '+ Add instance' })
  await addButton.click()
  const wizard = page.getByRole('dialog', { name: 'Add an instance' })
  await checkScreen(page, app, 'wizard', () => expect(wizard.getByTestId('instance-host')).toBeVisible())
  const host = wizard.getByTestId('instance-host')
  await host.evaluate((el, text) => {
    const data = new DataTransfer()
    data.setData('text/plain', text)
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }))
  }, 'ssh -p 2222 root@203.0.113.7')
  await expect(host).toHaveValue('203.0.113.7')
  await expect(wizard.getByTestId('instance-port')).toHaveValue('2222')
  await expect(wizard.getByTestId('instance-user')).toHaveValue('root')
  await host.fill('ubuntu@gpu-1.example.com:2200')
  await page.keyboard.press('Tab')
  await expect(host).toHaveValue('gpu-1.example.com')
  await expect(wizard.getByTestId('instance-port')).toHaveValue('2200')
  await expect(wizard.getByTestId('instance-user')).toHaveValue('ubuntu')
  await page.keyboard.press('Escape')
  await expect(wizard).toBeHidden()
  await expect(addButton).toBeFocused()

  // Import with no ~/.ssh/config: one message that says so, and nothing to import.
  const importButton = page.getByRole('button', { name: 'Import from ~/.ssh/config' })
  await importButton.click()
  const importDialog = page.getByRole('dialog', { name: /^Import from / })
  await expect(importDialog.getByText(`There is no ${path.join(HOME, '.ssh', 'config')} on this computer.`)).toBeVisible()
  await expect(importDialog.getByText(/No concrete Host entries/)).toHaveCount(0)
  await expect(importDialog.getByRole('button', { name: /^Import/ })).toBeDisabled()
  await expectAccessible(page, 'Import from ~/.ssh/config')
  await page.keyboard.press('Escape')
  await expect(importDialog).toBeHidden()
  await expect(importButton).toBeFocused()

  // A run on This computer (made with the CLI, then stopped), seen in its Models tab.
  const localRoot = path.join(app.dataDir, 'this-computer')
  const work = mkdtempSync(path.join(os.tmpdir(), 'gantry-e2e-newcomer-'))
  const planFile = path.join(work, 'plan.json')
  writeFileSync(planFile, JSON.stringify(fakePlan('newcomer local run', [['breakout', 1000]], 1)))
  const localRun = cli(['start', '--plan', planFile], localRoot).run_id as string
  cli(['stop', '--run', localRun, '--wait', '--grace', '5'], localRoot)
  await page.getByRole('tab', { name: 'Models' }).click()
  const models = page.getByRole('tabpanel').filter({ has: page.locator('.models-view') })
  await models.getByRole('button', { name: 'Refresh' }).click()
  await expect(models.locator('#models-run')).toHaveValue(localRun)
  // Choose files… is reachable by Tab (a real button).
  await models.getByRole('button', { name: 'Cancel downloads' }).focus()
  let reached = false
  for (let i = 0; i < 20 && !reached; i++) {
    await page.keyboard.press('Tab')
    reached = await models.getByRole('button', { name: 'Choose files…' }).evaluate((el) => el === document.activeElement)
  }
  expect(reached).toBe(true)

  // An instance that never connected: its Models tab shows its own (no) runs, not This computer's.
  await addButton.click()
  await wizard.getByTestId('instance-name').fill('never-connected')
  await host.fill('127.0.0.1')
  await wizard.getByTestId('instance-port').fill('9') // discard: nothing listens
  await wizard.getByTestId('instance-auth').selectOption('agent')
  await wizard.getByRole('button', { name: 'Add and test connection' }).click()
  await expect(wizard.getByRole('button', { name: 'Try again' })).toBeVisible({ timeout: 60_000 })
  await page.keyboard.press('Escape')
  const sidebar = page.getByRole('navigation', { name: 'Instances' })
  await sidebar.locator('[data-instance-id="never-connected"]').click()
  await page.getByRole('tab', { name: 'Models' }).click()
  await expect(models.getByText('No runs on never-connected yet.', { exact: false })).toBeVisible()
  await expect(models.locator('#models-run')).not.toHaveValue(localRun)
  await expect(models.locator('option', { hasText: localRun })).toHaveCount(0)

  // An error about that instance (Refresh cannot reach it) is a toast; at 1024×700 it does not cover
  // the wizard's buttons, and it goes away when the instance is removed.
  await page.setViewportSize({ width: 1024, height: 700 })
  await models.getByRole('button', { name: 'Refresh' }).click()
  const toast = page.getByRole('region', { name: 'Notifications' }).getByRole('alert')
  await expect(toast.first()).toBeVisible({ timeout: 60_000 })
  await addButton.click()
  for (const button of await wizard.locator('.dialog-actions button').all()) expect(await uncovered(button)).toBe(true)
  await page.keyboard.press('Escape')
  await page.getByRole('tab', { name: 'Setup' }).click()
  await page.getByRole('button', { name: 'Remove', exact: true }).click()
  await expect(toast).not.toHaveCount(0) // still there while the instance is
  await page.getByRole('button', { name: 'Really remove never-connected' }).click()
  await expect(sidebar.locator('[data-instance-id="never-connected"]')).toHaveCount(0)
  await expect(toast).toHaveCount(0)
})

test('a run: launch dialog, dashboard, terminals, models and set-up at both sizes; pause, stop with confirmation, resume', async ({ page, app }) => {
  test.setTimeout(600_000)
  requirePrerequisite(spawnSync(TEST_PYTHON, ['--version']).status === 0, 'Python 3', 'install python3 (or set GANTRY_PYTHON)')
  await setUpThisComputer(page)
  // After set-up the demo is the one primary action of the welcome card.
  const welcome = page.getByRole('region', { name: 'Welcome' })
  await expect(welcome.locator('.button-primary')).toHaveCount(1)
  await expect(welcome.locator('.button-primary')).toHaveText('Try the quick demo')

  const launchButton = page.getByRole('button', { name: 'Launch Training' })
  await launchButton.click()
  const dialog = page.getByRole('dialog', { name: 'Launch Training' })
  await checkScreen(page, app, 'launch-dialog', () => expect(dialog.getByRole('radio', { name: /Quick demo/ })).toBeChecked())
  await page.keyboard.press('Escape')
  await expect(dialog).toBeHidden()
  await expect(launchButton).toBeFocused()

  // Two games, one slot: the second waits in the queue with its target shown.
  await launchButton.click()
  await dialog.getByText('Custom plan (JSON)').click()
  await dialog.getByLabel('Plan JSON').fill(JSON.stringify(fakePlan('newcomer run', [['breakout', 100_000], ['freeway', 300]], 1), null, 2))
  await dialog.getByRole('button', { name: 'Start training' }).click()
  await expect(dialog).toBeHidden()
  const breakout = page.getByRole('article', { name: 'breakout card' })
  const freeway = page.getByRole('article', { name: 'freeway card' })
  await expect(breakout.locator('.badge')).toHaveText('running', { timeout: 60_000 })
  await expect(freeway.getByTestId('episodes')).toHaveText('0 / 300 episodes')
  await expect(freeway.getByTestId('eta')).toHaveText('waiting for a slot')
  await expect.poll(async () => Number(await breakout.getByRole('progressbar').getAttribute('aria-valuenow')), { timeout: 60_000 }).toBeGreaterThan(2)
  await expect(page.getByRole('figure', { name: 'Episodes over time' }).locator('path.recharts-curve').first()).toBeVisible({ timeout: 30_000 })
  await checkScreen(page, app, 'dashboard', () => expect(breakout).toBeVisible())

  await page.getByRole('tab', { name: 'Terminals' }).click()
  await checkScreen(page, app, 'terminals', () => expect(page.getByRole('button', { name: '+ Shell' })).toBeVisible())
  await page.getByRole('tab', { name: 'Models' }).click()
  const models = page.getByRole('tabpanel').filter({ has: page.locator('.models-view') })
  await checkScreen(page, app, 'models', () => expect(models.getByRole('button', { name: 'Choose files…' })).toBeVisible())
  await page.getByRole('tab', { name: 'Setup' }).click()
  await checkScreen(page, app, 'setup', () => expect(page.getByTestId('setup-status')).toBeVisible())
  await page.getByRole('tab', { name: 'Training' }).click()

  // Pause says so at once; a paused game shows no ETA and no rate.
  await breakout.getByRole('button', { name: 'Pause' }).click()
  await expect(breakout.getByRole('button', { name: 'Pausing…' })).toBeDisabled({ timeout: 1_000 })
  await expect(breakout.locator('.badge')).toHaveText('paused', { timeout: 60_000 })
  await expect(breakout.getByTestId('eta')).toHaveText('paused')
  await expect(breakout.getByTestId('rate')).toHaveCount(0)

  // Stop asks first (Escape keeps the run going), then shows Stopping…, then offers Resume run.
  const stopButton = page.getByRole('button', { name: 'Stop run' })
  await stopButton.click()
  const confirm = page.getByRole('alertdialog', { name: /^Stop run / })
  await expect(confirm).toBeVisible()
  await page.keyboard.press('Escape')
  await expect(confirm).toBeHidden()
  await expect(stopButton).toBeFocused()
  await stopButton.click()
  await confirm.getByRole('button', { name: 'Stop run' }).click()
  await expect(page.getByRole('button', { name: 'Stopping…' })).toBeDisabled({ timeout: 1_000 })
  const resume = page.getByRole('button', { name: 'Resume run' })
  await expect(resume).toBeVisible({ timeout: 60_000 })
  await expect(page.getByRole('button', { name: 'Launch Training' })).toBeVisible()
  await resume.click()
  await expect(page.getByRole('button', { name: 'Stop run' })).toBeVisible({ timeout: 60_000 })
  await expect(page.locator('.stream-state')).toHaveAttribute('data-status', 'live', { timeout: 30_000 })
  await expect(freeway.locator('.badge')).toHaveText(/running|queued/)
})
