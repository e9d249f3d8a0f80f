/**
 * Browser side of bench_charts: the dashboard's RunCharts fed by a RunModel holding 10 games ×
 * 100k points (folded from synthetic journal events), redrawn on revision bumps as the live
 * dashboard does. Exposes window.__benchCharts() → timings.
 */
import { flushSync } from 'react-dom'
import { createRoot } from 'react-dom/client'
import type { RunEvent } from '../../src/shared/remoteProtocol'
import { RunCharts } from '../../src/renderer/src/features/dashboard/RunCharts'
import { applyEvents, createRunModel } from '../../src/renderer/src/lib/runModel'

const nextPaint = () => new Promise<void>((resolve) => setTimeout(() => requestAnimationFrame(() => setTimeout(resolve, 0)), 0))

async function bench(pointsPerGame: number, games: number, redraws: number) {
  const model = createRunModel('bench')
  const names = Array.from({ length: games }, (_, i) => `game${i}`)
  const t0 = performance.now()
  let seq = 1
  applyEvents(model, [{ v: 1, type: 'run_started', ts: 0, run: 'bench', seq: seq++, plan_name: 'bench', slots: games, games: names, resumed: false }])
  const batch: RunEvent[] = []
  for (let n = 1; n <= pointsPerGame; n++) {
    for (const game of names) {
      batch.push({ v: 1, type: 'progress', ts: n * 3, run: 'bench', seq: seq++, game, episodes: n, target_episodes: 10 * pointsPerGame, mean_return: Math.log1p(n) * (1 + Math.sin(n / 500) / 4), global_step: n * 400, sps: 1000, episodes_per_hour: 1000 + (n % 100) })
    }
    if (batch.length >= 100_000) applyEvents(model, batch.splice(0))
  }
  applyEvents(model, batch)
  const foldMs = performance.now() - t0
  const root = createRoot(document.getElementById('root')!)
  const first = performance.now()
  flushSync(() => root.render(<RunCharts model={model} revision={0} redrawMs={0} />))
  await nextPaint()
  const firstMs = performance.now() - first
  const times: number[] = []
  for (let r = 1; r <= redraws; r++) {
    // Each live redraw also sees one new point per game.
    applyEvents(model, names.map((game) => ({ v: 1, type: 'progress', ts: (pointsPerGame + r) * 3, run: 'bench', seq: seq++, game, episodes: pointsPerGame + r, target_episodes: 10 * pointsPerGame, mean_return: 5, global_step: (pointsPerGame + r) * 400, sps: 1000, episodes_per_hour: 1000 }) as RunEvent))
    const start = performance.now()
    flushSync(() => root.render(<RunCharts model={model} revision={r} redrawMs={0} />))
    await nextPaint()
    times.push(performance.now() - start)
  }
  const drawn = [...document.querySelectorAll('figure[data-points]')].map((f) => Number(f.getAttribute('data-points')))
  return { foldMs, firstMs, times, drawn, pointsPerSeries: model.games.get('game0')!.returns.length }
}

;(window as unknown as { __benchCharts: typeof bench }).__benchCharts = bench
