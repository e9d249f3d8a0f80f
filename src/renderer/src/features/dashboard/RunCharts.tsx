import { memo, useEffect, useMemo, useRef, useState } from 'react'
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts'
import type { RunModel } from '../../lib/runModel'
import type { SeriesRing } from '../../lib/ringBuffer'
import { countAxis, timeAxis, type Axis } from './axisTicks'
import { BudgetChart } from './BudgetChart'
import { downsample, GAME_COLOURS } from './chartData'
import { GpuGauges } from './GpuGauges'

type Pick = (g: RunModel['games'] extends Map<string, infer G> ? G : never) => SeriesRing

type AxisFor = (min: number, max: number) => Axis

function axisOver(series: Array<{ data: Array<{ x: number }> }>, axisFor: AxisFor): Axis {
  let min = Infinity
  let max = -Infinity
  for (const s of series) {
    for (const p of s.data) {
      min = Math.min(min, p.x)
      max = Math.max(max, p.x)
    }
  }
  return Number.isFinite(min) ? axisFor(min, max) : { ticks: [], format: String }
}

function GameChart({ title, model, revision, pick, hidden, xAxis }: { title: string; model: RunModel; revision: number; pick: Pick; hidden: Set<string>; xAxis: AxisFor }) {
  const series = useMemo(
    () => model.order.map((name, i) => ({ name, colour: GAME_COLOURS[i % GAME_COLOURS.length], data: downsample(pick(model.games.get(name)!)) })),
    [model, revision, pick],
  )
  const hasData = series.some((s) => s.data.length > 0)
  const axis = useMemo(() => axisOver(series, xAxis), [series, xAxis])
  return (
    <figure className="chart" aria-label={title} data-points={series.reduce((n, s) => n + s.data.length, 0)}>
      <figcaption>{title}</figcaption>
      {hasData ? (
        <ResponsiveContainer width="100%" height={220}>
          <LineChart margin={{ top: 8, right: 12, bottom: 4, left: 0 }}>
            <CartesianGrid stroke="#2a303c" strokeDasharray="3 3" />
            <XAxis dataKey="x" type="number" domain={['dataMin', 'dataMax']} ticks={axis.ticks} tickFormatter={axis.format} stroke="#8b93a5" fontSize={11} allowDuplicatedCategory={false} />
            <YAxis stroke="#8b93a5" fontSize={11} width={48} />
            <Tooltip contentStyle={{ background: '#161a21', border: '1px solid #2a303c' }} labelFormatter={(v) => axis.format(Number(v))} />
            {series
              .filter((s) => !hidden.has(s.name) && s.data.length)
              .map((s) => (
                <Line key={s.name} data={s.data} dataKey="y" name={s.name} stroke={s.colour} dot={false} isAnimationActive={false} strokeWidth={1.5} />
              ))}
          </LineChart>
        </ResponsiveContainer>
      ) : (
        <p className="muted chart-empty">Waiting for the first numbers…</p>
      )}
    </figure>
  )
}

const pickReturns: Pick = (g) => g.returns
const pickEpisodes: Pick = (g) => g.episodesOverTime
const pickRate: Pick = (g) => g.rateOverTime

function GpuChart({ model, revision }: { model: RunModel; revision: number }) {
  const data = useMemo(() => {
    const gpu = model.gpu
    const total = gpu.memTotal
    return {
      util: downsample(gpu.util),
      mem: downsample(gpu.memUsed).map((p) => ({ x: p.x, y: total ? (p.y / total) * 100 : p.y })),
      temp: downsample(gpu.temp),
      power: downsample(gpu.power),
    }
  }, [model, revision])
  const axis = useMemo(() => axisOver([{ data: data.util }, { data: data.mem }, { data: data.temp }, { data: data.power }], timeAxis), [data])
  if (!model.gpu.names.length) {
    return (
      <figure className="chart" aria-label="GPU">
        <figcaption>GPU</figcaption>
        <p className="muted chart-empty">{model.gpu.unavailable ? `No GPU metrics: ${model.gpu.unavailable}` : 'No GPU samples yet.'}</p>
      </figure>
    )
  }
  return (
    <figure className="chart" aria-label="GPU">
      <figcaption>GPU: {model.gpu.names.join(', ')}</figcaption>
      <GpuGauges model={model} />
      <ResponsiveContainer width="100%" height={220}>
        <LineChart margin={{ top: 8, right: 12, bottom: 4, left: 0 }}>
          <CartesianGrid stroke="#2a303c" strokeDasharray="3 3" />
          <XAxis dataKey="x" type="number" domain={['dataMin', 'dataMax']} ticks={axis.ticks} tickFormatter={axis.format} stroke="#8b93a5" fontSize={11} allowDuplicatedCategory={false} />
          <YAxis yAxisId="pct" domain={[0, 100]} stroke="#8b93a5" fontSize={11} width={40} />
          <YAxis yAxisId="w" orientation="right" stroke="#8b93a5" fontSize={11} width={44} />
          <Tooltip contentStyle={{ background: '#161a21', border: '1px solid #2a303c' }} labelFormatter={(v) => axis.format(Number(v))} />
          <Legend />
          <Line yAxisId="pct" data={data.util} dataKey="y" name="util %" stroke="#3ccf7e" dot={false} isAnimationActive={false} />
          <Line yAxisId="pct" data={data.mem} dataKey="y" name="memory %" stroke="#5b9cff" dot={false} isAnimationActive={false} />
          <Line yAxisId="pct" data={data.temp} dataKey="y" name="temp °C" stroke="#f0b429" dot={false} isAnimationActive={false} />
          <Line yAxisId="w" data={data.power} dataKey="y" name="power W" stroke="#f25f5c" dot={false} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </figure>
  )
}

/** Charts need not follow every 250 ms revision: at most one redraw per CHART_REDRAW_MS (a 10 × 100k-point redraw costs ~0.2 s). */
export const CHART_REDRAW_MS = 2000

function useThrottled(value: number, ms: number): number {
  const [shown, setShown] = useState(value)
  const last = useRef(0)
  useEffect(() => {
    const wait = last.current + ms - Date.now()
    const t = setTimeout(() => ((last.current = Date.now()), setShown(value)), Math.max(0, wait))
    return () => clearTimeout(t)
  }, [value, ms])
  return shown
}

export const RunCharts = memo(function RunCharts({ model, revision: liveRevision, redrawMs = CHART_REDRAW_MS }: { model: RunModel; revision: number; redrawMs?: number }) {
  const revision = useThrottled(liveRevision, redrawMs)
  const [hidden, setHidden] = useState<Set<string>>(new Set())
  const toggle = (name: string) =>
    setHidden((h) => {
      const next = new Set(h)
      if (next.has(name)) next.delete(name)
      else next.add(name)
      return next
    })
  return (
    <section className="panel" aria-label="Charts">
      <div className="chart-toggles" role="group" aria-label="Games shown in charts">
        {model.order.map((name, i) => (
          <label key={name} className="chart-toggle" style={{ borderColor: GAME_COLOURS[i % GAME_COLOURS.length] }}>
            <input type="checkbox" checked={!hidden.has(name)} onChange={() => toggle(name)} />
            {name}
          </label>
        ))}
      </div>
      <div className="charts">
        <GameChart title="Mean return vs steps" model={model} revision={revision} pick={pickReturns} hidden={hidden} xAxis={countAxis} />
        <GameChart title="Episodes over time" model={model} revision={revision} pick={pickEpisodes} hidden={hidden} xAxis={timeAxis} />
        <GameChart title="Episodes per hour" model={model} revision={revision} pick={pickRate} hidden={hidden} xAxis={timeAxis} />
        <GpuChart model={model} revision={revision} />
        <BudgetChart model={model} revision={revision} />
      </div>
    </section>
  )
})
