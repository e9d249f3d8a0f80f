/**
 * Launch → watch → recover → terminals, on "This computer" with the real supervisor and the
 * fake trainer (real processes, fast and deterministic), in Chromium via the web host.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { expect, requirePrerequisite, ROOT, test } from './fixtures'
import { pidsWhereArgv } from '../test/rig/procs'
import { setUpThisComputer } from './steps'

const PYTHON = process.env.GANTRY_PYTHON ?? 'python3'

// The supervisor runs the fake trainer through its environment knob; no plan can choose the program.
const GANTRY_TRAINER_COMMAND = JSON.stringify([PYTHON, path.join(ROOT, 'remote', 'tests', 'fake_trainer.py')])
test.use({ appEnv: { GANTRY_PROGRESS_INTERVAL_S: '0.3', GANTRY_ATTACH_HEARTBEAT_S: '1', GANTRY_TRAINER_COMMAND } })

function fakePlan() {
  const game = (name: string, target: number) => ({ game: name, backend: 'builtin', target_episodes: target, trainer_args: { fake_episodes_per_sec: 12, fake_metrics_s: 0.2 } })
  return {
    name: 'e2e fake trainer plan',
    slots: 3,
    games: [game('breakout', 360), game('freeway', 300), game('asterix', 240)],
    gpu_sample_s: 1,
  }
}

/** Our own attach processes (this test's data folder only). */
function attachPids(dataDir: string): number[] {
  return pidsWhereArgv((argv) => argv.includes('attach') && argv.includes('gantry_remote') && argv.some((a) => a.startsWith(dataDir)))
}

function stopRuns(root: string): void {
  spawnSync(PYTHON, ['-m', 'gantry_remote', 'stop', '--root', root, '--wait', '--grace', '2'], { cwd: path.join(ROOT, 'remote'), timeout: 30_000 })
}

test('launch a run, watch it, survive a dropped stream, follow a log and use a shell', async ({ page, app }) => {
  requirePrerequisite(spawnSync(PYTHON, ['--version']).status === 0, 'Python 3', 'install python3 (or set GANTRY_PYTHON)')
  const localRoot = path.join(app.dataDir, 'this-computer')
  try {
    await expect(page.getByRole('region', { name: 'Welcome' })).toBeVisible()
    await app.screenshot('empty')
    await setUpThisComputer(page)
    // No event-triggered backups in this run: the Models list has to follow the run by itself.
    await page.getByRole('tab', { name: 'Models' }).click()
    const backupOnEvents = page.getByRole('checkbox', { name: 'when a model is exported or a game completes' })
    await backupOnEvents.uncheck()
    await expect(backupOnEvents).not.toBeChecked()
    await page.getByRole('tab', { name: 'Training' }).click()

    // Launch with a custom plan (the fake trainer) pasted as JSON.
    await page.getByRole('button', { name: 'Launch Training' }).click()
    const dialog = page.getByRole('dialog', { name: 'Launch Training' })
    await expect(dialog.getByText('Quick demo: 4 built-in games')).toBeVisible()
    await dialog.getByText('Custom plan (JSON)').click()
    await dialog.getByLabel('Plan JSON').fill(JSON.stringify(fakePlan(), null, 2))
    await dialog.getByRole('button', { name: 'Start training' }).click()
    await expect(dialog).toBeHidden()

    // Cards appear and progress; the button now knows a run is live.
    const breakout = page.getByRole('article', { name: 'breakout card' })
    await expect(breakout).toBeVisible()
    await expect(page.getByRole('button', { name: 'Open run' })).toBeVisible()
    const progress = breakout.getByRole('progressbar')
    await expect.poll(async () => Number(await progress.getAttribute('aria-valuenow')), { timeout: 30_000 }).toBeGreaterThan(20)
    const stream = page.locator('.stream-state')
    await expect(stream).toHaveAttribute('data-status', 'live')

    // Charts draw lines from the ring buffers.
    const returns = page.getByRole('figure', { name: 'Mean return vs steps' })
    await expect(returns.locator('path.recharts-curve').first()).toBeVisible()
    await expect.poll(async () => Number(await returns.getAttribute('data-points'))).toBeGreaterThan(3)
    await expect(page.getByRole('region', { name: 'Success criteria' }).getByText('Not applicable on CPU', { exact: false }).first()).toBeVisible()
    await app.screenshot('running')

    // Kill the attach stream mid-run: the dashboard re-attaches and back-fills with no gap.
    const pids = attachPids(app.dataDir)
    expect(pids.length).toBeGreaterThan(0)
    const episodesBefore = Number(await progress.getAttribute('aria-valuenow'))
    for (const pid of pids) process.kill(pid, 'SIGKILL')
    await expect(stream).not.toHaveAttribute('data-status', 'live', { timeout: 5_000 })
    await expect(stream).toHaveAttribute('data-status', /live|ended/, { timeout: 20_000 })
    await expect.poll(async () => Number(await progress.getAttribute('aria-valuenow')), { timeout: 20_000 }).toBeGreaterThan(episodesBefore)

    // Open a game's log from its card: lines arrive in an xterm.
    await page.getByRole('article', { name: 'freeway card' }).getByTitle('Open the freeway log').click()
    const logPane = page.locator('.terminal-pane:not([hidden])')
    await expect(page.getByRole('tab', { name: 'freeway log' })).toHaveAttribute('aria-selected', 'true')
    await expect(logPane.locator('.xterm-rows')).toContainText('fake trainer: freeway backend=builtin', { timeout: 20_000 })
    await app.screenshot('game-log')

    // A shell: type `echo hi`, see `hi`.
    await page.getByRole('button', { name: '+ Shell' }).click()
    const shellPane = page.locator('.terminal-pane[data-terminal-kind="shell"]:not([hidden])')
    await expect(shellPane).toHaveAttribute('data-status', 'open', { timeout: 20_000 })
    await shellPane.locator('.xterm').click()
    await page.keyboard.type('echo hi\n')
    await expect
      .poll(async () => (await shellPane.locator('.xterm-rows > div').allInnerTexts()).map((t) => t.trim()), { timeout: 20_000 })
      .toContain('hi')
    await app.screenshot('shell')

    // Back on the dashboard (the terminals stay mounted): the run completes, every seq once.
    await page.getByRole('tab', { name: 'Training' }).click()
    await expect(page.getByRole('article', { name: 'breakout card' }).locator('.badge')).toHaveText('completed', { timeout: 90_000 })
    await expect(stream).toHaveAttribute('data-status', 'ended', { timeout: 30_000 })
    const runs = readdirSync(path.join(localRoot, 'runs'))
    expect(runs).toHaveLength(1)
    const journal = readFileSync(path.join(localRoot, 'runs', runs[0], 'events.jsonl'), 'utf8').trim().split('\n')
    const header = page.getByRole('region', { name: 'Run summary' })
    await expect(header).toHaveAttribute('data-last-seq', String(journal.length))
    await expect(header).toHaveAttribute('data-event-count', String(journal.length))
    await expect(page.getByRole('button', { name: 'Launch Training' })).toBeVisible()
    await app.screenshot('completed')
    // The Models tab (mounted, hidden, since launch) took in each model as it was exported: no Refresh.
    await page.getByRole('tab', { name: 'Models' }).click()
    const models = page.getByRole('tabpanel').filter({ has: page.locator('.models-view') })
    for (const game of ['breakout', 'freeway', 'asterix']) {
      const row = models.locator(`tr[data-testid^="model-row-${game}-"][data-testid$=".onnx"]`)
      await expect(row).toHaveCount(1, { timeout: 10_000 })
      await expect(row.getByTestId('model-status')).toHaveText('Not downloaded')
    }
    // The shell is still alive after switching views.
    await page.getByRole('tab', { name: 'Terminals' }).click()
    await expect(shellPane).toHaveAttribute('data-status', 'open')
  } finally {
    if (existsSync(localRoot)) stopRuns(localRoot)
  }
})
