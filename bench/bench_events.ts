/**
 * Events/s from a journal through main → renderer, 10 games: the real `gantry_remote attach`
 * (Python) replays a fake journal; main parses every line with zod (remoteProtocol), tracks seqs,
 * keeps the history and emits batched `runs.events` through the event bus; each envelope is
 * JSON-serialised and parsed as the WebSocket would, validated with the contract schema as the
 * renderer's client does, and folded into the RunModel the dashboard draws from.
 *
 *   node bench/run.mjs bench_events [--events 200000] [--no-append]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { contract } from '../src/shared/contract'
import { createEventBus } from '../src/main/services/eventBus'
import { createHostRegistry } from '../src/main/services/host/hostRegistry'
import { createLocalSession } from '../src/main/services/local/localSession'
import { createRunsService } from '../src/main/services/runs/runsService'
import { applyEvents, createRunModel } from '../src/renderer/src/lib/runModel'
import { report, ROOT } from './lib/report'

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name)
  return i >= 0 ? Number(process.argv[i + 1]) : fallback
}
const TOTAL = arg('--events', 200_000)
const GAMES = Array.from({ length: 10 }, (_, i) => `game${i}`)

function writeJournal(runDir: string, runId: string): number {
  mkdirSync(runDir, { recursive: true })
  const t0 = 1_800_000_000
  const lines: string[] = [JSON.stringify({ v: 1, type: 'run_started', ts: t0, run: runId, seq: 1, plan_name: 'bench', slots: 10, games: GAMES, resumed: false })]
  for (let seq = 2; seq < TOTAL; seq++) {
    const g = seq % GAMES.length
    const n = Math.floor(seq / GAMES.length)
    const ts = t0 + seq * 0.03
    lines.push(
      seq % 50 === 0
        ? JSON.stringify({ v: 1, type: 'gpu', ts, run: runId, seq, gpus: [{ index: 0, name: 'H200', util: 95, mem_used: 40000, mem_total: 141000, temp: 60, power: 500 }] })
        : JSON.stringify({ v: 1, type: 'progress', ts, run: runId, seq, game: GAMES[g], episodes: n, target_episodes: 1_000_000, mean_return: Math.log1p(n), global_step: n * 400, sps: 30000, episodes_per_hour: 9000 }),
    )
  }
  lines.push(JSON.stringify({ v: 1, type: 'run_completed', ts: t0 + TOTAL, run: runId, seq: TOTAL, state: 'completed' }))
  writeFileSync(path.join(runDir, 'events.jsonl'), `${lines.join('\n')}\n`)
  writeFileSync(path.join(runDir, 'state.json'), JSON.stringify({ v: 1, run_id: runId, plan_name: 'bench', state: 'completed', started_ts: t0, order: [], games: {} }))
  return lines.join('\n').length
}

async function main() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'gantry-bench-events-'))
  const runId = 'bench-run'
  const bytes = writeJournal(path.join(root, 'runs', runId), runId)
  const bus = createEventBus()
  const session = createLocalSession({ root, remoteCodeDir: path.join(ROOT, 'remote'), python: process.env.GANTRY_PYTHON ?? 'python3' })
  const runs = createRunsService({ bus, hosts: createHostRegistry(session), bundleDir: ROOT, instanceName: () => 'bench', notify: () => {}, log: () => {}, historyLimit: TOTAL + 10 })
  const model = createRunModel(runId)
  const schema = contract.events['runs.events']
  let batches = 0
  let maxBatch = 0
  const done = new Promise<void>((resolve) => {
    const conn = bus.connect('renderer', (envelope) => {
      const wire = JSON.parse(JSON.stringify(envelope)) as { payload: unknown } // what the WebSocket carries
      const payload = schema.parse(wire.payload)
      batches++
      maxBatch = Math.max(maxBatch, payload.events.length)
      applyEvents(model, payload.events)
      if (model.lastSeq === TOTAL) resolve()
    })
    conn.subscribe('runs.events')
  })
  const started = performance.now()
  await runs.api['runs.watch']({ instanceId: 'local', runId }, { connectionId: 'bench', transport: 'ws', signal: new AbortController().signal })
  await done
  const seconds = (performance.now() - started) / 1000
  runs.dispose()
  rmSync(root, { recursive: true, force: true })
  const perGame = model.games.get('game0')!.returns.length
  report('Events: journal → main → renderer model, 10 games', `node bench/run.mjs bench_events --events ${TOTAL}`, [
    ['events', TOTAL.toLocaleString('en-US')],
    ['journal size', `${(bytes / 1e6).toFixed(1)} MB`],
    ['wall time (attach replay + parse + batch + deliver + fold)', `${seconds.toFixed(2)} s`],
    ['events/s end to end', Math.round(TOTAL / seconds).toLocaleString('en-US')],
    ['renderer batches (250 ms cadence)', `${batches} (largest ${maxBatch.toLocaleString('en-US')} events)`],
    ['points per game series', perGame.toLocaleString('en-US')],
    ['events applied / duplicates', `${model.eventCount} / ${TOTAL - model.eventCount}`],
  ], ['A live run journals at most ~1 progress event per game per 30 s (PROTOCOL.md), so a 10-game run needs < 1 event/s; the figure above is the back-fill rate after a reconnect.'])
}

void main()
