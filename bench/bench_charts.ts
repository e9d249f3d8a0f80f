/// <reference lib="dom" />
/**
 * Chart redraw time with 10 games × 100k points per series, in Chromium: the dashboard's own
 * RunCharts component (recharts) over ring-buffered series downsampled with LTTB, bundled by
 * esbuild into a page. A redraw = downsample every series + React render + SVG layout + paint.
 *
 *   node bench/run.mjs bench_charts [--points 100000] [--no-append]
 */
import { chromium } from '@playwright/test'
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { report, ROOT } from './lib/report'

const pointsArg = process.argv.indexOf('--points')
const POINTS = pointsArg >= 0 ? Number(process.argv[pointsArg + 1]) : 100_000
const GAMES = 10
const REDRAWS = 10

async function main() {
  const bundle = path.join(ROOT, 'out', 'bench', 'charts.js')
  execFileSync('npx', ['esbuild', path.join(ROOT, 'bench', 'charts', 'entry.tsx'), '--bundle', '--format=iife', '--platform=browser', '--jsx=automatic', '--minify', `--define:process.env.NODE_ENV="production"`, `--outfile=${bundle}`, '--log-level=warning'], { stdio: 'inherit' })
  const browser = await chromium.launch({ executablePath: process.env.GANTRY_CHROMIUM ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] })
  try {
    const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage()
    await page.setContent('<!doctype html><html><body style="margin:0;background:#0f1115;color:#ddd;font:14px sans-serif"><div id="root" style="width:1400px"></div></body></html>')
    await page.addScriptTag({ path: bundle })
    const r = await page.evaluate(([p, g, n]) => (window as unknown as { __benchCharts(p: number, g: number, n: number): Promise<{ foldMs: number; firstMs: number; times: number[]; drawn: number[]; pointsPerSeries: number }> }).__benchCharts(p, g, n), [POINTS, GAMES, REDRAWS] as const)
    const sorted = [...r.times].sort((a, b) => a - b)
    const mean = r.times.reduce((a, b) => a + b, 0) / r.times.length
    report('Charts: RunCharts redraw, 10 games × 100k points (Chromium)', `node bench/run.mjs bench_charts --points ${POINTS}`, [
      ['series held', `${GAMES} games × 3 charts, ${r.pointsPerSeries.toLocaleString('en-US')} points each (ring buffers)`],
      ['points drawn per chart (LTTB)', r.drawn.join(', ')],
      ['fold events into the model', `${r.foldMs.toFixed(0)} ms for ${(POINTS * GAMES).toLocaleString('en-US')} progress events`],
      ['first render', `${r.firstMs.toFixed(0)} ms`],
      ['redraw (downsample + render + paint)', `mean ${mean.toFixed(0)} ms, median ${sorted[Math.floor(sorted.length / 2)].toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms over ${REDRAWS} redraws`],
    ], ['The live dashboard redraws its charts at most once per 2 s (RunCharts CHART_REDRAW_MS) and only when events arrived, so at this size charts take ≤ ~10% of one core; cards and numbers still update 4×/s.'])
  } finally {
    await browser.close()
  }
}

void main().catch((error) => {
  console.error(error)
  process.exit(1)
})
