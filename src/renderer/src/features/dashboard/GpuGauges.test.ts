// GPU gauges from journal lines parsed with the app's schemas: a SLURM run's `gpu` event has one
// entry per GPU per node (remote/gantry_remote/slurm_gpu.py), each gauge labelled with its node
// and the games whose jobs sampled it; a single host's keeps its plain "GPU n" gauges.
import { createElement } from 'react'
import { renderToStaticMarkup } from 'react-dom/server'
import { describe, expect, it } from 'vitest'
import { parseEventLine, type RunEvent } from '../../../../shared/remoteProtocol'
import { applyEvents, createRunModel } from '../../lib/runModel'
import { GpuGauges } from './GpuGauges'

const run = '20251229-140000-a1b2'
const parse = (lines: object[]): RunEvent[] => lines.map((l) => parseEventLine(JSON.stringify(l))).flatMap((p) => (p.kind === 'event' ? [p.event] : []))
const gpu = (index: number, util: number, extra: object = {}) => ({ index, name: 'NVIDIA H100', util, mem_used: 40000, mem_total: 80000, temp: 60, power: 500, ...extra })
const gauges = (events: RunEvent[]) => {
  const model = createRunModel(run)
  applyEvents(model, events)
  return renderToStaticMarkup(createElement(GpuGauges, { model }))
}

describe('GpuGauges', () => {
  it('shows one gauge per GPU per node for a SLURM run, with the node and the games on it', () => {
    const html = gauges(parse([{ v: 1, ts: 1, run, seq: 1, type: 'gpu', gpus: [gpu(0, 90, { node: 'n1', games: ['breakout', 'pong'] }), gpu(0, 40, { node: 'n2', games: ['freeway'] })] }]))
    expect(html).toContain('data-testid="gpu-gauge-n1-0"')
    expect(html).toContain('data-testid="gpu-gauge-n2-0"')
    expect(html).toContain('aria-label="GPU 0 on n1 utilisation"')
    expect(html).toMatch(/GPU 0 on n1 <span class="muted">NVIDIA H100<\/span>.*breakout, pong/)
    expect(html).toMatch(/GPU 0 on n2 .*freeway/)
  })

  it('drops a node name that is not a host name (the host is untrusted), keeping the sample out', () => {
    const events = parse([{ v: 1, ts: 1, run, seq: 1, type: 'gpu', gpus: [gpu(0, 90, { node: '../../x y' })] }])
    expect(events).toHaveLength(0)
  })

  it('keeps the single-host gauges as they were', () => {
    const html = gauges(parse([{ v: 1, ts: 1, run, seq: 1, type: 'gpu', gpus: [gpu(0, 90), gpu(1, 10)] }]))
    expect(html).toContain('data-testid="gpu-gauge-0"')
    expect(html).toContain('aria-label="GPU 1"')
    expect(html).not.toContain(' on ')
  })
})
