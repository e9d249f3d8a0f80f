/// <reference lib="dom" />
/**
 * Terminal throughput: a 100 MB log flood followed in an embedded terminal, end to end —
 * `tail -F` on "This computer" → main (UTF-8 decoding, coalescing, ack flow control) → WebSocket
 * → xterm.js in Chromium (web host). Reports MB/s, frame times while flooding, and peak memory.
 *
 *   npm run build && node bench/run.mjs bench_terminal [--mb 100] [--no-append]
 */
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { openWebApp, peakRssMb, startFrameRecorder } from './lib/webApp'
import { report } from './lib/report'

const mbArg = process.argv.indexOf('--mb')
const MB = mbArg >= 0 ? Number(process.argv[mbArg + 1]) : 100

async function main() {
  const runId = 'bench-run'
  let logFile = ''
  const app = await openWebApp((dataDir) => {
    const runDir = path.join(dataDir, 'this-computer', 'runs', runId)
    mkdirSync(runDir, { recursive: true })
    writeFileSync(path.join(runDir, 'state.json'), JSON.stringify({ v: 1, run_id: runId, plan_name: 'bench', state: 'completed', started_ts: Date.now() / 1000, order: [], games: {} }))
    logFile = path.join(runDir, 'supervisor.log')
    writeFileSync(logFile, '')
  })
  const { page } = app
  try {
    await page.getByRole('button', { name: 'Supervisor log' }).click()
    const pane = page.locator('.terminal-pane:not([hidden])')
    await pane.locator('.xterm-rows').waitFor()
    await page.waitForFunction(() => document.querySelector('.terminal-pane:not([hidden])')?.getAttribute('data-status') === 'open')
    const heapBefore = await page.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0)
    const stopFrames = await startFrameRecorder(page)
    // 100-byte lines with multibyte characters, so UTF-8 boundaries fall inside chunks.
    const line = `flood ${'é∑'.repeat(10)} ${'x'.repeat(54)} 🚀\n`
    const lineBytes = Buffer.byteLength(line)
    const lines = Math.ceil((MB * 1e6) / lineBytes)
    const block = line.repeat(10_000)
    const started = performance.now()
    for (let i = 0; i < lines; i += 10_000) appendFileSync(logFile, block)
    appendFileSync(logFile, 'FLOOD-END\n')
    const totalBytes = Math.ceil(lines / 10_000) * 10_000 * lineBytes
    await page.waitForFunction(() => document.querySelector('.terminal-pane:not([hidden]) .xterm-rows')?.textContent?.includes('FLOOD-END'), null, { polling: 250, timeout: 900_000 })
    const seconds = (performance.now() - started) / 1000
    const frames = await stopFrames()
    const heapAfter = await page.evaluate(() => (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0)
    // Still responsive: typing in the search box echoes at once.
    const typed = performance.now()
    await pane.getByRole('searchbox').fill('FLOOD-END')
    const inputMs = performance.now() - typed
    report('Terminal: log flood into xterm (Chromium, web host)', `npm run build && node bench/run.mjs bench_terminal --mb ${MB}`, [
      ['bytes followed', `${(totalBytes / 1e6).toFixed(1)} MB (${Math.ceil(lines / 10_000) * 10_000} lines)`],
      ['wall time to last line drawn', `${seconds.toFixed(1)} s`],
      ['throughput', `${(totalBytes / 1e6 / seconds).toFixed(1)} MB/s`],
      ['frames while flooding', `${frames.frames} (p50 ${frames.p50.toFixed(1)} ms, p95 ${frames.p95.toFixed(1)} ms, max ${frames.max.toFixed(0)} ms, ${frames.over50} over 50 ms)`],
      ['renderer JS heap before → after', `${(heapBefore / 1e6).toFixed(0)} → ${(heapAfter / 1e6).toFixed(0)} MB (scrollback 5000 lines)`],
      ['web host peak RSS', `${peakRssMb(app.hostPid)?.toFixed(0) ?? '?'} MB`],
      ['search box fill after the flood', `${inputMs.toFixed(0)} ms`],
    ])
  } finally {
    await app.close()
    rmSync(app.dataDir, { recursive: true, force: true })
  }
}

void main().catch((error) => {
  console.error(error)
  process.exit(1)
})
