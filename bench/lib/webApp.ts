/// <reference lib="dom" />
/** Start the built web host on a temp data folder and open it in Debian's Chromium (as the e2e fixture does). */
import { chromium, type Browser, type Page } from '@playwright/test'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { ROOT } from './report'

export interface WebApp {
  page: Page
  dataDir: string
  hostPid: number
  close(): Promise<void>
}

export async function openWebApp(prepare: (dataDir: string) => void = () => {}): Promise<WebApp> {
  const main = path.join(ROOT, 'out', 'web', 'main.js')
  if (!existsSync(main)) throw new Error('The built app is missing: run `npm run build` first.')
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gantry-bench-'))
  prepare(dataDir)
  const host: ChildProcess = spawn(process.execPath, [main, '--json', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'inherit'] })
  const url = await new Promise<string>((resolve, reject) => {
    host.once('exit', (code) => reject(new Error(`web host exited with ${code}`)))
    createInterface({ input: host.stdout! }).once('line', (line) => resolve((JSON.parse(line) as { url: string }).url))
  })
  const browser: Browser = await chromium.launch({
    executablePath: process.env.GANTRY_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--enable-precise-memory-info'],
  })
  const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage()
  await page.goto(url)
  return {
    page,
    dataDir,
    hostPid: host.pid!,
    async close() {
      await browser.close()
      host.kill('SIGTERM')
    },
  }
}

/** Peak resident memory of a process (VmHWM), in MB. */
export function peakRssMb(pid: number): number | null {
  try {
    const status = require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8') as string
    const m = /VmHWM:\s+(\d+) kB/.exec(status)
    return m ? Number(m[1]) / 1024 : null
  } catch {
    return null
  }
}

/** Records requestAnimationFrame intervals in the page; `stop` returns their stats. */
export async function startFrameRecorder(page: Page): Promise<() => Promise<{ frames: number; p50: number; p95: number; max: number; over50: number }>> {
  await page.evaluate(() => {
    const w = window as unknown as { __frames: number[]; __recording: boolean }
    w.__frames = []
    w.__recording = true
    let last = performance.now()
    const tick = (t: number) => {
      w.__frames.push(t - last)
      last = t
      if (w.__recording) requestAnimationFrame(tick)
    }
    requestAnimationFrame(tick)
  })
  return async () => {
    const frames = await page.evaluate(() => {
      const w = window as unknown as { __frames: number[]; __recording: boolean }
      w.__recording = false
      return w.__frames
    })
    const sorted = [...frames].sort((a, b) => a - b)
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0
    return { frames: frames.length, p50: q(0.5), p95: q(0.95), max: sorted.at(-1) ?? 0, over50: frames.filter((f) => f > 50).length }
  }
}
