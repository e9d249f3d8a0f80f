/**
 * Each game card shows a small live picture of its game: the quick demo on This computer (the
 * real PPO trainer playing built-in games) draws its trainer's thumbnail.png in the card, and the
 * picture moves while the game trains.
 */
import { existsSync } from 'node:fs'
import { expect, requirePrerequisite, test, TEST_PYTHON } from './fixtures'
import { cardsProgress, untilDone } from './progress'
import { setUpThisComputer } from './steps'

test.use({ appEnv: { GANTRY_SETUP_PYTHON: TEST_PYTHON } })

test('a running demo card shows a live picture of its game', async ({ page, app }) => {
  test.setTimeout(900_000)
  requirePrerequisite(existsSync(TEST_PYTHON) || TEST_PYTHON === 'python3', 'Python with torch', 'bash .ci/run (creates .venv with CPU torch)')
  await setUpThisComputer(page)
  await page.getByRole('button', { name: 'Launch Training' }).click()
  const dialog = page.getByRole('dialog', { name: 'Launch Training' })
  await expect(dialog.getByRole('radio', { name: /Quick demo/ })).toBeChecked()
  const start = dialog.getByRole('button', { name: 'Start training' })
  await expect(start).toBeEnabled({ timeout: 180_000 })
  await start.click()
  await expect(dialog).toBeHidden()

  const card = page.getByRole('article', { name: 'breakout card' })
  const picture = card.getByTestId('game-thumb').locator('img')
  const naturalSize = async () => ((await picture.count()) ? picture.evaluate((img: HTMLImageElement) => [img.naturalWidth, img.naturalHeight]) : [0, 0])
  await untilDone({
    what: "the breakout card's picture",
    done: async () => (await naturalSize())[0] > 0,
    progress: () => cardsProgress(page, ['breakout']),
    stallMs: 180_000,
    overallMs: 600_000,
  })
  expect(await naturalSize()).toEqual([80, 80]) // the 10x10 grid, 8x
  await expect(card.getByTestId('game-thumb')).toHaveAttribute('title', /^breakout as its trainer saw it at /)
  await app.screenshot('card-picture')
  // While the game trains the card fetches the newest picture every few seconds.
  const first = await picture.getAttribute('src')
  await expect.poll(() => picture.getAttribute('src'), { timeout: 60_000 }).not.toBe(first)
})
