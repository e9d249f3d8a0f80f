/**
 * The whole journey a new user takes, asserted on what they see, with every part real: the web
 * host (or Electron), the supervisor, the PPO trainer on the built-in games, onnxruntime-node,
 * and — for the second journey — a real OpenSSH server added through the wizard.
 *
 * 1. Fresh profile → "This computer" selected → Set up succeeds.
 * 2. Quick demo → cards progress, charts draw, a game's log shows in a terminal.
 * 3. A trainer killed from the shell terminal → its card says "restarting", then it completes.
 * 4. All games complete → success criteria green → models listed → Download all → Validated.
 * 5. The same against an SSH host (host-key confirm in the wizard, setup over SSH).
 */
import type { Locator, Page } from '@playwright/test'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { sshdUnavailableReason, startSshd, type SshdHandle } from '../test/rig/sshd'
import { expect, requirePrerequisite, stopRuns, TEST_PYTHON, test, type AppHandle } from './fixtures'
import { cardsProgress, untilDone } from './progress'
import { setUpThisComputer } from './steps'

const QUICK_DEMO_GAMES = ['breakout', 'space_invaders', 'seaquest', 'asterix']

test.use({ appEnv: { GANTRY_SETUP_PYTHON: TEST_PYTHON, GANTRY_PROGRESS_INTERVAL_S: '2' } })

function requireTorch(): void {
  requirePrerequisite(existsSync(TEST_PYTHON) || TEST_PYTHON === 'python3', 'Python with torch', 'bash .ci/run (creates .venv with CPU torch)')
}

async function openShellAndRun(page: Page, command: string): Promise<void> {
  await page.getByRole('tab', { name: 'Terminals' }).click()
  await page.getByRole('button', { name: '+ Shell' }).click()
  const shell = page.locator('.terminal-pane[data-terminal-kind="shell"]:not([hidden])')
  await expect(shell).toHaveAttribute('data-status', 'open', { timeout: 30_000 })
  await shell.locator('.xterm').click()
  await page.keyboard.type(`${command}\n`)
  // The shell computes the marker, so it can only appear as output, never as the echoed input.
  const rows = shell.locator('.xterm-rows')
  await expect(rows).toContainText(/trainer killed, code 42|no trainer matched, code 43/, { timeout: 20_000 })
  await expect(rows).toContainText('trainer killed, code 42')
}

async function watchRunStart(page: Page, app: AppHandle, games: string[], label: string): Promise<void> {
  for (const game of games) await expect(page.getByRole('article', { name: `${game} card` })).toBeVisible({ timeout: 60_000 })
  const first = page.getByRole('article', { name: `${games[0]} card` })
  await untilDone({
    what: `the first episodes of ${games[0]}`,
    done: async () => Number(await first.getByRole('progressbar').getAttribute('aria-valuenow')) > 0,
    // Before its first episode a game moves through queued → starting → running; the log grows.
    progress: async () => `${await first.getAttribute('data-state')} ${await cardsProgress(page, games)}`,
    stallMs: 300_000,
    overallMs: 1_200_000,
  })
  const returns = page.getByRole('figure', { name: 'Mean return vs steps' })
  await expect(returns.locator('path.recharts-curve').first()).toBeVisible({ timeout: 60_000 })
  await app.screenshot(`${label}-training`)

  // A game's log, from its card, in a terminal.
  await first.getByTitle(`Open the ${games[0]} log`).click()
  await expect(page.getByRole('tab', { name: `${games[0]} log` })).toHaveAttribute('aria-selected', 'true')
  await expect(page.locator('.terminal-pane:not([hidden]) .xterm-rows')).toContainText(/\S/, { timeout: 60_000 })
  await app.screenshot(`${label}-game-log`)
}

async function killTrainerAndSeeItRecover(page: Page, app: AppHandle, game: string, gantryRoot: string, label: string): Promise<void> {
  // What a user would type: kill this run's trainer for one game (scoped to this root only).
  const pattern = `gantry_remote train --game ${game} --backend builtin --run-dir ${gantryRoot}/runs/`
  await openShellAndRun(page, `pkill -9 -f -- '${pattern}' && echo "trainer killed, code $((40+2))" || echo "no trainer matched, code $((40+3))"`)
  await page.getByRole('tab', { name: 'Training' }).click()
  const card = page.getByRole('article', { name: `${game} card` })
  await expect(card).toHaveAttribute('data-state', 'restarting', { timeout: 30_000 })
  await expect(card.getByText('1 restart', { exact: true })).toBeVisible()
  await app.screenshot(`${label}-restarting`)
  // It restarts from its last checkpoint as soon as a slot is free (queued games may go first).
}

async function waitForCompletion(page: Page, app: AppHandle, games: string[], label: string): Promise<void> {
  // However slow the machine, every game must keep moving: five minutes without a new episode or
  // state anywhere in the run is a stall (restart backoff and queueing are far shorter).
  await untilDone({
    what: `completion of ${games.join(', ')}`,
    done: async () => {
      const states = await Promise.all(games.map((g) => page.getByRole('article', { name: `${g} card` }).getAttribute('data-state')))
      return states.every((s) => s === 'completed')
    },
    progress: () => cardsProgress(page, games),
    stallMs: 300_000,
    overallMs: 3_600_000,
  })
  const criteria = page.getByRole('region', { name: 'Success criteria' })
  const badges = criteria.locator('li .badge')
  await expect(badges).toHaveCount(6)
  await expect.poll(async () => (await badges.allInnerTexts()).every((t) => t === 'met' || t === 'n/a'), { timeout: 30_000 }).toBe(true)
  await expect(criteria.locator('[data-criterion] .badge', { hasText: 'met' })).not.toHaveCount(0)
  await app.screenshot(`${label}-completed`)
}

async function downloadAllAndValidate(page: Page, app: AppHandle, games: string[], label: string): Promise<void> {
  await page.getByRole('tab', { name: 'Models' }).click()
  const view = page.getByRole('tabpanel').filter({ has: page.locator('.models-view') })
  await view.getByRole('button', { name: 'Refresh' }).click()
  const modelRows: Locator = view.locator('tr[data-testid^="model-row-"][data-testid$=".onnx"]')
  await expect.poll(async () => modelRows.count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(games.length)
  await app.screenshot(`${label}-models-listed`)
  await view.getByRole('button', { name: 'Download all' }).click()
  const statuses = view.getByTestId('model-status')
  await expect.poll(async () => (await statuses.allInnerTexts()).every((s) => s === 'Verified'), { timeout: 120_000 }).toBe(true)
  for (const game of games) {
    const row = view.locator(`tr[data-testid^="model-row-${game}-"][data-testid$=".onnx"]`).first()
    await row.getByRole('button', { name: 'Validate' }).click()
    const report = view.getByTestId('validation-report')
    await expect(report.getByText('Validated', { exact: true })).toBeVisible({ timeout: 60_000 })
    await expect(report).toContainText(game)
  }
  await app.screenshot(`${label}-models-validated`)
}

test('journey on This computer: set up, quick demo, a killed trainer recovers, models verified', async ({ page, app }) => {
  test.setTimeout(5_400_000) // a ceiling only: the waits inside fail early on a stall
  requireTorch()
  const sidebar = page.getByRole('navigation', { name: 'Instances' })
  await expect(sidebar.getByRole('button', { name: /This computer/ })).toHaveAttribute('aria-current', 'page')
  await expect(page.getByRole('region', { name: 'Welcome' })).toBeVisible()
  await app.screenshot('local-welcome')

  await setUpThisComputer(page)
  await expect(page.locator('.setup-step[data-status="fail"]')).toHaveCount(0)

  const welcome = page.getByRole('region', { name: 'Welcome' })
  await welcome.getByRole('button', { name: 'Try the quick demo' }).click()
  const dialog = page.getByRole('dialog', { name: 'Launch Training' })
  await expect(dialog.getByRole('radio', { name: /Quick demo/ })).toBeChecked()
  await dialog.getByRole('button', { name: 'Start training' }).click()

  await watchRunStart(page, app, QUICK_DEMO_GAMES, 'local')
  await killTrainerAndSeeItRecover(page, app, 'breakout', path.join(app.dataDir, 'this-computer'), 'local')
  await waitForCompletion(page, app, QUICK_DEMO_GAMES, 'local')
  await downloadAllAndValidate(page, app, QUICK_DEMO_GAMES, 'local')
})

let sshd: SshdHandle | null = null
test.afterAll(async () => {
  await sshd?.stop()
})

test('journey on an SSH host: add with the wizard, trust the key, set up, train, recover, keep the models', async ({ page, app }) => {
  test.setTimeout(5_400_000) // a ceiling only: the waits inside fail early on a stall
  requireTorch()
  requirePrerequisite(sshdUnavailableReason() === null, 'OpenSSH server', sshdUnavailableReason() ?? '')
  sshd = await startSshd()
  const gantryRoot = path.join(sshd.dir, 'gantry-root')
  try {
    await sshJourney(page, app, sshd, gantryRoot)
  } finally {
    stopRuns(gantryRoot)
  }
})

async function sshJourney(page: Page, app: AppHandle, host: SshdHandle, gantryRoot: string): Promise<void> {
  await page.getByRole('region', { name: 'Welcome' }).getByRole('button', { name: 'Add a GPU instance' }).click()
  const wizard = page.getByRole('dialog', { name: 'Add an instance' })
  await wizard.getByTestId('instance-name').fill('gpu-journey')
  await wizard.getByTestId('instance-host').fill(host.host)
  await wizard.getByTestId('instance-port').fill(String(host.port))
  await wizard.getByTestId('instance-user').fill(host.user)
  await wizard.getByTestId('instance-key-path').fill(host.clientKeyPath)
  await wizard.getByTestId('instance-gantry-root').fill(gantryRoot)
  await wizard.getByRole('button', { name: 'Add and test connection' }).click()
  const prompt = page.getByRole('dialog', { name: 'Trust this host key?' })
  await expect(prompt.getByTestId('host-key-fingerprint')).toHaveText(host.hostKeyFingerprint)
  await app.screenshot('ssh-host-key')
  await prompt.getByRole('button', { name: 'Trust' }).click()
  await expect(wizard.getByTestId('connection-ok')).toContainText(host.hostKeyFingerprint)
  await wizard.getByRole('button', { name: 'Check the host' }).click()
  await expect(wizard.getByTestId('doctor-report')).toContainText('Linux', { timeout: 60_000 })
  await wizard.getByRole('button', { name: 'Next' }).click()
  await wizard.getByRole('button', { name: 'Next' }).click()
  await wizard.getByRole('button', { name: 'Set up now' }).click()
  await untilDone({
    what: 'set-up over SSH',
    done: () => wizard.getByRole('button', { name: 'Done' }).isVisible(),
    progress: async () => (await wizard.locator('.setup-step').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-step')}:${r.getAttribute('data-status')}`))).join(' '),
    stallMs: 600_000, // one pip install may be silent this long on a busy machine
    overallMs: 1_800_000,
  })
  await app.screenshot('ssh-setup-done')
  await wizard.getByRole('button', { name: 'Done' }).click()

  await expect(page.getByRole('heading', { level: 1, name: 'gpu-journey' })).toBeVisible()
  await page.getByRole('button', { name: 'Launch Training' }).click()
  const dialog = page.getByRole('dialog', { name: 'Launch Training' })
  await expect(dialog.getByRole('radio', { name: /Quick demo/ })).toBeChecked()
  // The same quick demo, trimmed to two games to keep CI time reasonable.
  const kept = ['breakout', 'asterix']
  for (const game of QUICK_DEMO_GAMES.filter((g) => !kept.includes(g))) await dialog.getByRole('button', { name: `Remove ${game}` }).click()
  await dialog.getByRole('button', { name: 'Start training' }).click()

  await watchRunStart(page, app, kept, 'ssh')
  await killTrainerAndSeeItRecover(page, app, 'breakout', gantryRoot, 'ssh')
  await waitForCompletion(page, app, kept, 'ssh')
  await downloadAllAndValidate(page, app, kept, 'ssh')
}
