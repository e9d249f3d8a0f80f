/**
 * Ctrl+C on the app during set-up of This computer: setup.sh and what it runs end with the app
 * (trainers outlive it by design; set-up does not), and the tab that watched the set-up stops
 * spinning and says what happened instead of showing a step "running" forever.
 * Drives the web host directly (not the shared fixture) because the test stops it mid-spec.
 */
import { chromium, expect, test } from '@playwright/test'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { pidsWhereArgv } from '../test/rig/procs'
import { ROOT, TEST_PYTHON, requirePrerequisite } from './fixtures'

const CHROMIUM = process.env.GANTRY_CHROMIUM ?? '/usr/bin/chromium'
const WEB_HOST = path.join(ROOT, 'out', 'web', 'main.js')

function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/** setup.sh of this data folder and every process below it (pip, python). */
function setupProcesses(dataDir: string): number[] {
  const roots = pidsWhereArgv((a) => a[0] === 'bash' && (a[1] ?? '').endsWith('/setup.sh') && a.includes(path.join(dataDir, 'this-computer')))
  const tree = new Set(roots)
  for (let grew = true; grew; ) {
    grew = false
    for (const pid of pidsWhereArgv(() => true)) {
      if (tree.has(pid)) continue
      try {
        const ppid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) \S+ /, '').split(' ')[0])
        if (tree.has(ppid)) {
          tree.add(pid)
          grew = true
        }
      } catch {
        // ended meanwhile
      }
    }
  }
  return [...tree]
}

test('Ctrl+C during set-up ends set-up with the app, and the tab says the set-up stopped', async () => {
  test.setTimeout(180_000)
  requirePrerequisite(existsSync(CHROMIUM), 'Chromium', 'apt-get install chromium (or set GANTRY_CHROMIUM)')
  requirePrerequisite(existsSync(WEB_HOST), 'The built app', 'run `npm run build` first')
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gantry-e2e-interrupt-'))
  const host = spawn(process.execPath, [WEB_HOST, '--json', '--data-dir', dataDir], { env: { ...process.env, GANTRY_PYTHON: TEST_PYTHON, GANTRY_DATA_DIR: dataDir }, stdio: ['ignore', 'pipe', 'inherit'] })
  const url = await new Promise<string>((resolve, reject) => {
    host.once('exit', (code) => reject(new Error(`web host exited with ${code}`)))
    createInterface({ input: host.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { url: string }).url))
  })
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'] })
  let watched: number[] = []
  try {
    const page = await browser.newPage()
    await page.goto(url)
    await page.getByRole('region', { name: 'Welcome' }).getByRole('button', { name: 'Set up' }).click()
    await expect.poll(() => (watched = setupProcesses(dataDir)).length, { timeout: 60_000, message: 'setup.sh starts' }).toBeGreaterThan(0)
    await expect(page.locator('.setup-step[data-status="running"]').first()).toBeVisible({ timeout: 60_000 })

    const exited = new Promise<number | null>((resolve) => host.once('exit', (code) => resolve(code)))
    host.kill('SIGINT')
    expect(await exited).toBe(0)
    await expect.poll(() => watched.filter(alive), { timeout: 15_000, message: 'setup.sh and its children end with the app' }).toEqual([])

    await expect(page.locator('.setup-step[data-status="running"]')).toHaveCount(0, { timeout: 15_000 })
    await expect(page.locator('.setup-step[data-status="fail"]').first()).toContainText('the connection to Gantry was lost')
    await expect(page.getByRole('button', { name: 'Setting up…' })).toHaveCount(0)
  } finally {
    await browser.close()
    if (host.exitCode === null) host.kill('SIGTERM')
    for (const pid of watched.filter(alive)) process.kill(pid, 'SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  }
})
