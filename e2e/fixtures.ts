/**
 * One set of specs, two targets: the Electron app where an Electron binary exists, else the web
 * host (`out/web/main.js`) in Debian's Chromium. Specs only see `page` and `app` (the data
 * folder and a way to take named screenshots); they never know which target runs.
 */
import { test as base, chromium, _electron, type Page } from '@playwright/test'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'

export const ROOT = path.resolve(__dirname, '..')
export const SCREENSHOT_DIR = path.join(ROOT, 'test-results', 'screenshots')
const CHROMIUM = process.env.GANTRY_CHROMIUM ?? '/usr/bin/chromium'
/** The project venv (made by .ci/run) has CPU torch: "This computer" setup reuses it instead of installing. */
const PROJECT_PYTHON = path.join(ROOT, '.venv', 'bin', 'python')
export const TEST_PYTHON = process.env.GANTRY_PYTHON ?? (existsSync(PROJECT_PYTHON) ? PROJECT_PYTHON : 'python3')

function electronBinary(): string | null {
  try {
    const bin = require('electron') as unknown as string
    return typeof bin === 'string' && existsSync(bin) ? bin : null
  } catch {
    return null
  }
}

export function requirePrerequisite(ok: boolean, what: string, install: string): void {
  if (ok) return
  const message = `${what} is missing: ${install}`
  if (process.env.CI === 'true') throw new Error(message)
  base.skip(true, message)
}

export interface AppHandle {
  target: 'electron' | 'web'
  dataDir: string
  screenshot(name: string): Promise<string>
}

/** Trainers outlive the app by design: stop every run a test started under a Gantry root. */
export function stopRuns(root: string): void {
  const runs = path.join(root, 'runs')
  if (!existsSync(runs)) return
  for (const runId of readdirSync(runs)) {
    spawnSync(TEST_PYTHON, ['-m', 'gantry_remote', 'stop', '--root', root, '--run', runId, '--wait', '--grace', '5'], { cwd: path.join(ROOT, 'remote'), timeout: 60_000 })
  }
}

async function startWebHost(dataDir: string, env: NodeJS.ProcessEnv): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'out', 'web', 'main.js'), '--json', '--data-dir', dataDir], { env, stdio: ['ignore', 'pipe', 'inherit'] })
  const lines = createInterface({ input: child.stdout! })
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`web host exited with ${code}`)))
    lines.once('line', (line) => resolve((JSON.parse(line) as { url: string }).url))
  })
  return { url, child }
}

export const test = base.extend<{ app: AppHandle; page: Page; appEnv: NodeJS.ProcessEnv; browserArgs: string[] }>({
  appEnv: [{}, { option: true }],
  /** Extra Chromium switches for the app's window, e.g. ['--disable-webgl']. */
  browserArgs: [[], { option: true }],
  app: async ({ appEnv }, use, testInfo) => {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gantry-e2e-'))
    mkdirSync(SCREENSHOT_DIR, { recursive: true })
    const electron = electronBinary()
    const handle: AppHandle = {
      target: electron ? 'electron' : 'web',
      dataDir,
      screenshot: async () => '',
    }
    await use(Object.assign(handle, { _electron: electron, _env: { ...process.env, GANTRY_PYTHON: TEST_PYTHON, ...appEnv, GANTRY_DATA_DIR: dataDir } }))
    stopRuns(path.join(dataDir, 'this-computer'))
    // Keep a failed test's data folder for inspection; a passing one leaves nothing behind.
    if (testInfo.status === testInfo.expectedStatus) rmSync(dataDir, { recursive: true, force: true })
  },
  page: async ({ app, browserArgs }, use, testInfo) => {
    const internal = app as AppHandle & { _electron: string | null; _env: NodeJS.ProcessEnv }
    let page: Page
    let close: () => Promise<void>
    if (internal._electron) {
      const electronApp = await _electron.launch({ args: [...browserArgs, ROOT], env: internal._env as Record<string, string> })
      page = await electronApp.firstWindow()
      close = () => electronApp.close()
    } else {
      requirePrerequisite(existsSync(CHROMIUM), 'Chromium', 'apt-get install chromium (or set GANTRY_CHROMIUM)')
      requirePrerequisite(existsSync(path.join(ROOT, 'out', 'web', 'main.js')), 'The built app', 'run `npm run build` first')
      const host = await startWebHost(app.dataDir, internal._env)
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', ...browserArgs],
      })
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } })
      page = await context.newPage()
      await page.goto(host.url)
      close = async () => {
        await browser.close()
        host.child.kill('SIGTERM')
      }
    }
    app.screenshot = async (name: string) => {
      const file = path.join(SCREENSHOT_DIR, `${testInfo.titlePath.slice(1).join('-').replace(/[^A-Za-z0-9._-]+/g, '_')}-${name}.png`)
      await page.screenshot({ path: file, fullPage: true })
      return file
    }
    await use(page)
    await close()
  },
})

export { expect } from '@playwright/test'
