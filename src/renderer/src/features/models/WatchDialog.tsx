/**
 * Watch a model play: a built-in game's model plays a fresh episode on this computer, an Atari
 * model's recorded episode is replayed. The frames arrive in chunks; playing can start with the
 * first. Play/pause, step, speed, and a slider to any step; score and step follow the frame.
 */
import { useEffect, useRef, useState } from 'react'
import { EPISODE_CHUNK_BYTES, type EpisodeInfo, type ModelRow } from '../../../../shared/api/models'
import { api } from '../../api'
import { useDialog } from '../../components/useDialog'
import { decodeBase64, paintFrame, CHANNEL_COLOURS } from './episodeFrames'

const SPEEDS = [0.5, 1, 4] as const
/** Steps a second at 1×: Atari steps are 4 emulator frames (15 a second at 60 Hz); the 10×10 games are easier to follow slower. */
const BASE_STEPS_PER_SECOND = { grey: 15, grid: 8 } as const
const ENDED: Record<string, string> = {
  game_over: 'the game ended',
  truncated: "the game's step limit",
  max_steps: 'the step limit of a watched episode',
  max_seconds: 'the time limit of a watched episode',
}

interface Props {
  instanceId: string
  runId: string
  row: ModelRow
  onClose(): void
}

export function WatchDialog({ instanceId, runId, row, onClose }: Props) {
  const ref = useDialog<HTMLDivElement>(onClose)
  const canvas = useRef<HTMLCanvasElement>(null)
  const [seed, setSeed] = useState(1)
  const [info, setInfo] = useState<EpisodeInfo | null>(null)
  const frames = useRef<Uint8Array>(new Uint8Array(0))
  const [loaded, setLoaded] = useState(0)
  const [error, setError] = useState<string | null>(null)
  const [step, setStep] = useState(0)
  const [playing, setPlaying] = useState(false)
  const [speed, setSpeed] = useState<(typeof SPEEDS)[number]>(1)

  // Ask for the episode, then its frames chunk by chunk; play starts with the first chunk.
  useEffect(() => {
    let cancelled = false
    // Closing the dialog (or asking for another seed) cancels a live episode still playing in the backend.
    const watching = new AbortController()
    setInfo(null)
    setLoaded(0)
    setStep(0)
    setError(null)
    setPlaying(false)
    ;(async () => {
      const episode = await api.withSignal(watching.signal)['models.watch']({ instanceId, runId, path: row.path, seed })
      if (cancelled) return
      frames.current = new Uint8Array(episode.frames * episode.frameBytes)
      setInfo(episode)
      const perChunk = Math.max(1, Math.floor(EPISODE_CHUNK_BYTES / episode.frameBytes))
      for (let from = 0; from < episode.frames && !cancelled; from += perChunk) {
        const count = Math.min(perChunk, episode.frames - from)
        const chunk = decodeBase64((await api['models.episodeFrames']({ episodeId: episode.episodeId, from, count })).base64)
        if (chunk.length !== count * episode.frameBytes) throw new Error(`The backend sent ${chunk.length} bytes for ${count} frames; expected ${count * episode.frameBytes}. Press Watch again.`)
        if (cancelled) return
        frames.current.set(chunk, from * episode.frameBytes)
        setLoaded(from + count)
        if (from === 0) setPlaying(true)
      }
    })().catch((e: unknown) => !cancelled && setError(e instanceof Error ? e.message : String(e)))
    return () => {
      cancelled = true
      watching.abort()
    }
  }, [instanceId, runId, row.path, seed])

  // Advance while playing, never past the frames that have arrived; stop at the end.
  useEffect(() => {
    if (!playing || !info) return
    const timer = setInterval(
      () =>
        setStep((s) => {
          if (s + 1 >= info.frames) {
            setPlaying(false)
            return s
          }
          return s + 1 < loaded ? s + 1 : s
        }),
      1000 / (BASE_STEPS_PER_SECOND[info.kind] * speed),
    )
    return () => clearInterval(timer)
  }, [playing, info, loaded, speed])

  useEffect(() => {
    const context = canvas.current?.getContext('2d')
    if (!context || !info || step >= loaded) return
    const image = context.createImageData(info.width, info.height)
    paintFrame(info, frames.current, step, image.data)
    context.putImageData(image, 0, 0)
  }, [info, step, loaded])

  const score = info ? info.rewards.slice(0, step).reduce((a, b) => a + b, 0) : 0
  const atEnd = info !== null && step >= info.frames - 1
  const scale = info ? Math.max(1, Math.floor(420 / Math.max(info.width, info.height))) : 1

  return (
    <div className="overlay" role="presentation" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div ref={ref} tabIndex={-1} className="panel watch-dialog" role="dialog" aria-modal="true" aria-labelledby="watch-title">
        <h2 id="watch-title">Watch {row.file}</h2>
        {!info && !error && (
          <p className="muted" role="status">
            {row.local.status === 'verified' ? 'Preparing the episode…' : 'Downloading and verifying the model, then preparing the episode…'}
          </p>
        )}
        {error && (
          <p className="text-error" role="alert">
            {error}
          </p>
        )}
        {info && (
          <>
            <p className="muted watch-source">
              {info.source === 'live' ? `${info.game}, played on this computer just now (ONNX Runtime); ${info.policy}.` : `${info.game}, the episode the trainer recorded when it exported this model; ${info.policy}.`}
              {info.note && ` ${info.note}`}
            </p>
            {info.frames === 0 ? (
              <p role="status">This episode has no steps to show.</p>
            ) : (
              <>
                <canvas ref={canvas} className="watch-canvas" width={info.width} height={info.height} style={{ width: info.width * scale, height: info.height * scale }} role="img" aria-label={`${info.game}, step ${step + 1} of ${info.frames}, score ${score}`} />
                <div className="watch-readout">
                  <span data-testid="watch-step">
                    Step {step + 1} of {info.frames}
                  </span>
                  <span data-testid="watch-score">Score {formatScore(score)}</span>
                  <span className="muted">
                    {step < info.steps ? `Action: ${info.actionNames[info.actions[step]] ?? '—'}` : 'Game over'}
                  </span>
                  {loaded < info.frames && <span className="muted">Loading frames… {Math.round((100 * loaded) / info.frames)}%</span>}
                </div>
                <input type="range" className="watch-seek" aria-label="Step" min={0} max={Math.max(0, loaded - 1)} value={Math.min(step, Math.max(0, loaded - 1))} onChange={(e) => setStep(Number(e.target.value))} />
                <div className="watch-controls">
                  <button className="button" onClick={() => setStep(0)} disabled={step === 0}>
                    Restart
                  </button>
                  <button className="button" aria-label="Step back" onClick={() => setStep((s) => Math.max(0, s - 1))} disabled={step === 0 || playing}>
                    ◀ Step
                  </button>
                  <button className="button button-primary" onClick={() => (atEnd ? (setStep(0), setPlaying(true)) : setPlaying((p) => !p))}>
                    {playing ? 'Pause' : atEnd ? 'Play again' : 'Play'}
                  </button>
                  <button className="button" aria-label="Step forward" onClick={() => setStep((s) => Math.min(loaded - 1, s + 1))} disabled={atEnd || step + 1 >= loaded || playing}>
                    Step ▶
                  </button>
                  <div className="watch-speed" role="group" aria-label="Speed">
                    {SPEEDS.map((s) => (
                      <button key={s} className="button" aria-pressed={speed === s} onClick={() => setSpeed(s)}>
                        {s}×
                      </button>
                    ))}
                  </div>
                </div>
                {info.kind === 'grid' && (
                  <ul className="watch-legend" aria-label="Colours">
                    {info.channelNames.map((name, c) => (
                      <li key={name}>
                        <span className="watch-swatch" style={{ background: `rgb(${CHANNEL_COLOURS[c % CHANNEL_COLOURS.length].join(',')})` }} />
                        {name}
                      </li>
                    ))}
                  </ul>
                )}
                {atEnd && (
                  <p role="status">
                    Final score {formatScore(info.score)} after {info.steps} steps ({ENDED[info.ended] ?? info.ended}).
                  </p>
                )}
              </>
            )}
          </>
        )}
        <div className="dialog-actions">
          {info?.source === 'live' && (
            <button className="button" onClick={() => setSeed((s) => s + 1)}>
              Another episode
            </button>
          )}
          <button className="button" onClick={onClose}>
            Close
          </button>
        </div>
      </div>
    </div>
  )
}

function formatScore(score: number): string {
  return Number.isInteger(score) ? String(score) : score.toFixed(2)
}
