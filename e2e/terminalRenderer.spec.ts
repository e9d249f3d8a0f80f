/**
 * Terminals draw with xterm's WebGL renderer only where WebGL runs on a GPU; elsewhere (WebGL
 * off, or only software WebGL as in this headless Chromium) the DOM renderer draws, and the
 * terminal must work the same: output shown, input taken.
 */
import type { Locator, Page } from '@playwright/test'
import { expect, test } from './fixtures'

async function openShellAndEcho(page: Page): Promise<Locator> {
  await page.getByRole('tab', { name: 'Terminals' }).click()
  await page.getByRole('button', { name: '+ Shell' }).click()
  const shell = page.locator('.terminal-pane[data-terminal-kind="shell"]:not([hidden])')
  await expect(shell).toHaveAttribute('data-status', 'open', { timeout: 30_000 })
  await shell.locator('.xterm').click()
  // The shell computes the marker, so it can only appear as output, never as the echoed input.
  await page.keyboard.type('echo "renderer ok $((6*7))"\n')
  await expect(shell.locator('.xterm-rows')).toContainText('renderer ok 42', { timeout: 20_000 })
  return shell
}

test.describe('with WebGL turned off in the browser', () => {
  test.use({ browserArgs: ['--disable-webgl'] })

  test('the terminal falls back to the DOM renderer and still shows output and takes input', async ({ page, app }) => {
    expect(await page.evaluate(() => document.createElement('canvas').getContext('webgl2') === null)).toBe(true)
    const shell = await openShellAndEcho(page)
    await expect(shell).toHaveAttribute('data-renderer', 'dom')
    await expect(shell).toHaveAttribute('data-renderer-reason', 'WebGL2 is not available')
    await app.screenshot('dom-fallback')
  })
})

test('with only software WebGL (no GPU), the DOM renderer draws instead of a CPU-drawn WebGL canvas', async ({ page }) => {
  const renderer = await page.evaluate(() => {
    const gl = document.createElement('canvas').getContext('webgl2')
    const info = gl?.getExtension('WEBGL_debug_renderer_info')
    return gl && info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : null
  })
  test.skip(renderer === null || !/swiftshader|llvmpipe|software/i.test(renderer), `this browser's WebGL is not software-rendered (${renderer})`)
  const shell = await openShellAndEcho(page)
  await expect(shell).toHaveAttribute('data-renderer', 'dom')
  await expect(shell).toHaveAttribute('data-renderer-reason', /software-rendered/)
})
