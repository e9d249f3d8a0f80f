/**
 * Watch a model play (issue #18): after a tiny real training run on "This computer" (real
 * supervisor, real PPO trainer), "Watch" on its model plays an episode here (ONNX Runtime in the
 * isolated model process, the game's TypeScript port): the picture is drawn, the step counter
 * moves while playing, pause / step / speed work, the dialog passes axe and closes on Escape.
 */
import AxeBuilder from '@axe-core/playwright'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { Locator } from '@playwright/test'
import { expect, requirePrerequisite, test } from './fixtures'
import { finishedTinyRun, VENV_PYTHON } from './tinyRun'

const stepOf = async (counter: Locator) => Number(/^Step (\d+) of \d+$/.exec((await counter.textContent()) ?? '')?.[1] ?? NaN)

test('Watch plays a model of a finished run on this computer: picture, moving step counter, pause, step, speed', async ({ page, app }) => {
  requirePrerequisite(existsSync(VENV_PYTHON) && spawnSync(VENV_PYTHON, ['-c', 'import torch, onnx']).status === 0, 'A Python venv with torch and onnx', 'create .venv with `pip install torch onnx numpy` (bash .ci/run does it)')
  const work = mkdtempSync(path.join(os.tmpdir(), 'gantry-e2e-watch-'))
  try {
    const runId = await finishedTinyRun(path.join(app.dataDir, 'this-computer'), work, 'e2e watch')
    await page.getByRole('tab', { name: 'Models' }).click()
    const view = page.getByRole('tabpanel').filter({ has: page.locator('.models-view') })
    await view.getByRole('button', { name: 'Refresh' }).click()
    await expect(view.locator('#models-run')).toHaveValue(runId)
    const modelRow = view.locator('tr[data-testid^="model-row-breakout-"][data-testid$=".onnx"]')
    await modelRow.getByRole('button', { name: /^Watch .* play$/ }).click()

    const dialog = page.getByRole('dialog', { name: /^Watch breakout-\d+\.onnx$/ })
    await expect(dialog.getByText(/played on this computer just now/)).toBeVisible()
    const counter = dialog.getByTestId('watch-step')
    await expect(counter).toHaveText(/^Step \d+ of \d+$/)
    // Playing: the counter moves on by itself.
    const first = await stepOf(counter)
    await expect.poll(() => stepOf(counter)).toBeGreaterThan(first)
    // The picture is the game's grid in colour, not an empty canvas.
    const lit = await dialog.locator('canvas').evaluate((c: HTMLCanvasElement) => {
      const data = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data
      let n = 0
      for (let i = 0; i < data.length; i += 4) if (data[i] + data[i + 1] + data[i + 2] > 3 * 17) n++
      return n
    })
    expect(lit).toBeGreaterThan(0)
    await app.screenshot('watch-playing')

    // Pause holds the frame; Step moves exactly one.
    const total = Number(/of (\d+)$/.exec((await counter.textContent()) ?? '')?.[1])
    if ((await stepOf(counter)) < total) await dialog.getByRole('button', { name: 'Pause' }).click()
    const paused = await stepOf(counter)
    if (paused < total) {
      await dialog.getByRole('button', { name: 'Step forward' }).click()
      await expect(counter).toHaveText(`Step ${paused + 1} of ${total}`)
    }
    await dialog.getByRole('button', { name: '4×' }).click()
    await expect(dialog.getByRole('button', { name: '4×' })).toHaveAttribute('aria-pressed', 'true')

    const results = await new AxeBuilder({ page }).include('.watch-dialog').analyze()
    expect(results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${v.help}`)).toEqual([])
    await page.keyboard.press('Escape')
    await expect(dialog).toBeHidden()
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
})
