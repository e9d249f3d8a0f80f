/**
 * The Models tab on "This computer": a real (tiny) training run by the real supervisor and PPO
 * trainer exports a real ONNX model; the UI lists it, downloads and verifies it, validates it
 * with onnxruntime-node, rejects a tampered model with the reason, and backs the run up.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, requirePrerequisite, ROOT, test } from './fixtures'
import { finishedTinyRun, VENV_PYTHON } from './tinyRun'

test('list, download, verify and validate the models of a finished run; reject a tampered model; back up', async ({ page, app }) => {
  requirePrerequisite(
    existsSync(VENV_PYTHON) && spawnSync(VENV_PYTHON, ['-c', 'import torch, onnx']).status === 0,
    'A Python venv with torch and onnx',
    'create .venv with `pip install torch onnx numpy` (bash .ci/run does it)',
  )
  const localRoot = path.join(app.dataDir, 'this-computer')
  const work = mkdtempSync(path.join(os.tmpdir(), 'gantry-e2e-models-'))
  try {
    const runId = await finishedTinyRun(localRoot, work, 'e2e tiny real training')

    await page.getByRole('tab', { name: 'Models' }).click()
    const view = page.getByRole('tabpanel').filter({ has: page.locator('.models-view') })
    await view.getByRole('button', { name: 'Refresh' }).click()
    await expect(view.locator('#models-run')).toHaveValue(runId)
    const modelRow = view.locator('tr[data-testid^="model-row-breakout-"][data-testid$=".onnx"]')
    await expect(modelRow).toHaveCount(1)
    await expect(modelRow.getByTestId('model-status')).toHaveText('Not downloaded')
    await app.screenshot('listed')

    // At 1024×700 the table fits its panel: the row's Download button is whole and in view, not clipped.
    await page.setViewportSize({ width: 1024, height: 700 })
    const table = view.locator('.models-table').locator('..')
    const download = modelRow.getByRole('button', { name: 'Download' })
    await download.scrollIntoViewIfNeeded()
    const [button, panel] = [await download.boundingBox(), await view.locator('section.panel').first().boundingBox()]
    expect(button!.x + button!.width).toBeLessThanOrEqual(Math.min(panel!.x + panel!.width, 1024))
    expect(await table.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true)
    await app.screenshot('listed-1024x700')
    await page.setViewportSize({ width: 1440, height: 900 })

    // Download: verified against the host's sha256 and placed in the backup layout.
    await modelRow.getByRole('button', { name: 'Download' }).click()
    await expect(modelRow.getByTestId('model-status')).toHaveText('Verified')
    const modelFile = (await modelRow.getAttribute('data-testid'))!.replace('model-row-', '')
    const local = path.join(app.dataDir, 'models', 'local', runId, 'breakout', modelFile)
    expect(readFileSync(local).equals(readFileSync(path.join(localRoot, 'runs', runId, 'games', 'breakout', 'models', modelFile)))).toBe(true)

    // Validate the verified copy: probe replayed by onnxruntime-node within 1e-4.
    await modelRow.getByRole('button', { name: 'Validate' }).click()
    const report = view.getByTestId('validation-report')
    await expect(report.getByText('Validated', { exact: true })).toBeVisible()
    await expect(report.getByText(/^Probe: max \|difference\| .* latency [\d.]+ ms$/)).toBeVisible()
    await expect(report.locator('.action-bar')).not.toHaveCount(0)
    await app.screenshot('validated')

    // A tampered model, dropped in through the file input with its probe: output drift.
    const fixture = spawnSync(VENV_PYTHON, [path.join(ROOT, 'scripts', 'make-onnx-fixture.py'), path.join(work, 'tampered'), '--tamper', 'weights'], { encoding: 'utf8' })
    expect(fixture.status, fixture.stderr).toBe(0)
    const tampered = JSON.parse(fixture.stdout.trim()) as { file: string; probe: string }
    await view.getByTestId('validate-input').setInputFiles([path.join(work, 'tampered', tampered.file), path.join(work, 'tampered', tampered.probe)])
    await expect(report.getByText('Not validated')).toBeVisible()
    await expect(report.getByText(/^Output drift: on the probe frame the model's logits differ/)).toBeVisible()
    await app.screenshot('tampered')

    // Back up now, checkpoints included: only what is not yet safe is downloaded.
    await view.getByLabel('include checkpoints').click()
    await expect(view.getByLabel('include checkpoints')).toBeChecked()
    await view.getByRole('button', { name: 'Back up now' }).click()
    await expect(view.getByTestId('backup-last-success')).not.toHaveText('Last success: never')
    const checkpoints = readdirSync(path.join(localRoot, 'runs', runId, 'games', 'breakout', 'ckpt')).filter((f) => f.endsWith('.pt'))
    expect(checkpoints.length).toBeGreaterThan(0)
    // Validation already fetched the model and its probe; the checkpoints are new, and so is the episode recording unless
    // the automatic backup at the game's completion fetched it first.
    const record = view.getByText(/manual · local · \d+ new, \d+ already safe$/)
    await expect(record).toBeVisible()
    const [, fresh, safe] = /(\d+) new, (\d+) already safe$/.exec((await record.textContent())!)!.map(Number)
    expect([2, 3]).toContain(safe)
    expect(fresh + safe).toBe(checkpoints.length + 3)
    const manifest = JSON.parse(readFileSync(path.join(app.dataDir, 'models', 'local', runId, 'manifest.json'), 'utf8')) as { files: Array<{ file: string }> }
    expect(manifest.files.map((f) => f.file).sort()).toEqual([`breakout/${modelFile}`, `breakout/${modelFile}.probe.json`, `breakout/${modelFile}.episode.gz`, ...checkpoints.map((c) => `breakout/${c}`)].sort())
    await app.screenshot('backed-up')
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
})
