/**
 * A run as the dashboard sees it, folded from journal events (pure: no React, no store). Small
 * values (states, counters) are plain fields; metric series are ring buffers.
 */
import type { GpuSample, RuleChange, RunEvent, RunEventOf } from '../../../shared/remoteProtocol'
import { SeriesRing } from './ringBuffer'

export const SERIES_CAPACITY = 200_000
const GPU_CAPACITY = 50_000
/** Budget counts arrive once a minute or so: a month of them. */
const BUDGET_CAPACITY = 50_000
/** Gaps between GPU samples longer than this are not counted in the time-weighted utilisation. */
const MAX_GPU_GAP_S = 120

export type GameState = 'queued' | 'running' | 'restarting' | 'paused' | 'completed' | 'failed' | 'stopped'

export interface Restart {
  ts: number
  cause: string
  detail: string | null
  attempt: number
  /** The plan's restart rule that fired (absent from older hosts) and what it changed. */
  rule: string | null
  changes: RuleChange[]
  note: string | null
}

export interface SlurmJob {
  jobId: string
  state: string
  reason: string
  node: string
  /** Seconds the job waited (or, while PENDING, has waited) in the queue when last reported. */
  queueWaitS: number | null
}

export interface GameModel {
  game: string
  state: GameState
  episodes: number
  target: number | null
  meanReturn: number | null
  globalStep: number
  /** Environment steps per second, from the last progress line. */
  sps: number | null
  episodesPerHour: number | null
  restarts: Restart[]
  checkpoints: number
  models: number
  failure: { cause: string; detail: string | null } | null
  /** Paused by a restart rule (a CUDA fault), not by a person; cleared when it runs again. */
  pausedByRule: { cause: string; detail: string | null } | null
  /** The GPU its trainer is pinned to (null: no GPU, or not known yet). */
  gpu: number | null
  /** SLURM runs: the game's job as SLURM last reported it (slurm_job events). */
  slurm: SlurmJob | null
  returns: SeriesRing
  episodesOverTime: SeriesRing
  rateOverTime: SeriesRing
}

export interface GpuModel {
  names: string[]
  util: SeriesRing
  memUsed: SeriesRing
  memTotal: number | null
  temp: SeriesRing
  power: SeriesRing
  /** Seconds of sampled time and util×seconds, for the time-weighted utilisation. */
  weightedS: number
  weightedUtil: number
  unavailable: string | null
  /** gpu_unavailable after samples had arrived: the GPU went away mid-run. */
  errors: Array<{ ts: number; reason: string }>
  /** The GPUs the run places trainers on (run_started), null from a host that does not say. */
  placed: number[] | null
  /** Why trainers sharing a GPU time-slice instead of running side by side (mps_unavailable). */
  sharingProblem: string | null
  lastSample: GpuSample[] | null
  lastTs: number | null
}

export interface RunModel {
  runId: string
  planName: string | null
  slots: number | null
  order: string[]
  games: Map<string, GameModel>
  startedTs: number | null
  lastTs: number | null
  ended: 'completed' | 'stopped' | 'failed' | null
  endedTs: number | null
  lastSeq: number
  /** Events applied: equals lastSeq when the journal arrived with no gap (seqs start at 1). */
  eventCount: number
  /** Pauses, resumes, slot changes, supervisor restarts of a stopped run: things a person did. */
  manualInterventions: Array<{ ts: number; what: string }>
  gpu: GpuModel
  /** The supervisor's latest budget count (null: the run has no budget). */
  budget: RunEventOf<'budget'> | null
  /** Spent over time, one point per budget count (x: unix s, y: spent in the budget's unit). */
  budgetSpent: SeriesRing
}

export function createRunModel(runId: string): RunModel {
  return {
    runId,
    planName: null,
    slots: null,
    order: [],
    games: new Map(),
    startedTs: null,
    lastTs: null,
    ended: null,
    endedTs: null,
    lastSeq: 0,
    eventCount: 0,
    manualInterventions: [],
    budget: null,
    budgetSpent: new SeriesRing(BUDGET_CAPACITY),
    gpu: {
      names: [],
      util: new SeriesRing(GPU_CAPACITY),
      memUsed: new SeriesRing(GPU_CAPACITY),
      memTotal: null,
      temp: new SeriesRing(GPU_CAPACITY),
      power: new SeriesRing(GPU_CAPACITY),
      weightedS: 0,
      weightedUtil: 0,
      unavailable: null,
      errors: [],
      placed: null,
      sharingProblem: null,
      lastSample: null,
      lastTs: null,
    },
  }
}

function game(model: RunModel, name: string): GameModel {
  let g = model.games.get(name)
  if (!g) {
    g = {
      game: name,
      state: 'queued',
      episodes: 0,
      target: null,
      meanReturn: null,
      globalStep: 0,
      sps: null,
      episodesPerHour: null,
      restarts: [],
      checkpoints: 0,
      models: 0,
      failure: null,
      pausedByRule: null,
      gpu: null,
      slurm: null,
      returns: new SeriesRing(SERIES_CAPACITY),
      episodesOverTime: new SeriesRing(SERIES_CAPACITY),
      rateOverTime: new SeriesRing(SERIES_CAPACITY),
    }
    model.games.set(name, g)
    if (!model.order.includes(name)) model.order.push(name)
  }
  return g
}

const avg = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null)

function applyGpu(model: RunModel, ts: number, gpus: GpuSample[]): void {
  const gpu = model.gpu
  if (!gpus.length) return
  gpu.names = gpus.map((g) => g.name)
  const util = avg(gpus.map((g) => g.util).filter((v): v is number => v !== null))
  if (util !== null) {
    if (gpu.lastTs !== null && gpu.lastSample) {
      const dt = ts - gpu.lastTs
      const prev = avg(gpu.lastSample.map((g) => g.util).filter((v): v is number => v !== null))
      if (dt > 0 && dt <= MAX_GPU_GAP_S && prev !== null) {
        gpu.weightedS += dt
        gpu.weightedUtil += prev * dt
      }
    }
    gpu.util.push(ts, util)
  }
  const mem = gpus.map((g) => g.mem_used).filter((v): v is number => v !== null)
  if (mem.length) gpu.memUsed.push(ts, mem.reduce((a, b) => a + b, 0))
  const total = gpus.map((g) => g.mem_total).filter((v): v is number => v !== null)
  if (total.length) gpu.memTotal = total.reduce((a, b) => a + b, 0)
  const temps = gpus.map((g) => g.temp).filter((v): v is number => v !== null)
  if (temps.length) gpu.temp.push(ts, Math.max(...temps))
  const power = gpus.map((g) => g.power).filter((v): v is number => v !== null)
  if (power.length) gpu.power.push(ts, power.reduce((a, b) => a + b, 0))
  gpu.lastSample = gpus
  gpu.lastTs = ts
  gpu.unavailable = null
}

/** Time-weighted mean GPU utilisation (%), or the single sample's value, or null without samples. */
export function gpuUtilisation(model: RunModel): number | null {
  if (model.gpu.weightedS > 0) return model.gpu.weightedUtil / model.gpu.weightedS
  return model.gpu.util.length ? model.gpu.util.y(model.gpu.util.length - 1) : null
}

/** Fold events into the model. Events at or below lastSeq are ignored (replays overlap). */
export function applyEvents(model: RunModel, events: readonly RunEvent[]): number {
  let applied = 0
  for (const e of events) {
    if (e.seq <= model.lastSeq) continue
    model.lastSeq = e.seq
    model.lastTs = e.ts
    model.eventCount++
    applied++
    switch (e.type) {
      case 'run_started':
        model.planName = e.plan_name
        model.slots = e.slots
        model.startedTs ??= e.ts
        for (const name of e.games) game(model, name)
        if (e.gpus) model.gpu.placed = e.gpus
        if (e.resumed) {
          model.manualInterventions.push({ ts: e.ts, what: 'run resumed after it had stopped' })
          model.ended = null
          model.endedTs = null
        }
        break
      case 'game_queued': {
        const g = game(model, e.game)
        g.state = 'queued'
        if (e.target_episodes !== undefined) g.target = e.target_episodes
        break
      }
      case 'game_started': {
        const g = game(model, e.game)
        g.state = 'running'
        g.gpu = e.gpu ?? null
        g.pausedByRule = null
        break
      }
      case 'progress': {
        const g = game(model, e.game)
        g.episodes = e.episodes
        g.target = e.target_episodes
        g.globalStep = e.global_step
        g.sps = e.sps
        if (e.mean_return !== null) {
          g.meanReturn = e.mean_return
          g.returns.push(e.global_step, e.mean_return)
        }
        if (e.episodes_per_hour !== null) {
          g.episodesPerHour = e.episodes_per_hour
          g.rateOverTime.push(e.ts, e.episodes_per_hour)
        }
        g.episodesOverTime.push(e.ts, e.episodes)
        break
      }
      case 'checkpoint':
        game(model, e.game).checkpoints++
        break
      case 'model_exported':
        game(model, e.game).models++
        break
      case 'game_restarting': {
        const g = game(model, e.game)
        g.state = 'restarting'
        g.restarts.push({ ts: e.ts, cause: e.cause, detail: e.detail, attempt: e.attempt, rule: e.rule ?? null, changes: e.changes ?? [], note: e.note ?? null })
        break
      }
      case 'game_failed': {
        const g = game(model, e.game)
        g.state = 'failed'
        g.failure = { cause: e.cause, detail: e.detail }
        break
      }
      case 'game_completed': {
        const g = game(model, e.game)
        g.state = 'completed'
        g.episodes = Math.max(g.episodes, e.episodes)
        break
      }
      case 'game_paused': {
        const g = game(model, e.game)
        g.state = 'paused'
        if (e.rule) g.pausedByRule = { cause: e.cause ?? 'other', detail: e.detail ?? null }
        else model.manualInterventions.push({ ts: e.ts, what: `${e.game} paused` })
        break
      }
      case 'game_resumed':
        game(model, e.game).state = 'queued'
        break
      case 'game_stopped':
        game(model, e.game).state = 'stopped'
        break
      case 'slurm_job':
        game(model, e.game).slurm = { jobId: e.job_id, state: e.state, reason: e.reason, node: e.node, queueWaitS: e.queue_wait_s ?? null }
        break
      case 'slots_changed':
        model.slots = e.slots
        model.manualInterventions.push({ ts: e.ts, what: `slots changed to ${e.slots}` })
        break
      case 'gpu':
        applyGpu(model, e.ts, e.gpus)
        break
      case 'gpu_unavailable':
        if (model.gpu.lastSample) model.gpu.errors.push({ ts: e.ts, reason: e.reason })
        model.gpu.unavailable = e.reason
        break
      case 'mps_unavailable':
        model.gpu.sharingProblem = e.reason
        break
      case 'budget':
        model.budget = e
        model.budgetSpent.push(e.ts, e.spent)
        break
      case 'run_completed':
        model.ended = e.state
        model.endedTs = e.ts
        break
      case 'supervisor_started':
      case 'heartbeat':
        break
    }
  }
  return applied
}
