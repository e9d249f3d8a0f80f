/**
 * A built-in game's model playing one fresh episode on this computer: the game's TypeScript port
 * steps here, the untrusted model answers in its isolated process (policyProcess.ts). Actions are
 * sampled from the policy's softmax with a seeded generator, as in training (the returns the
 * trainer reports come from sampled actions); the same model and seed play the same episode.
 * Bounded by MAX_EPISODE_STEPS and a wall-clock limit; whatever stops the model is an error that
 * says why.
 */
import { MAX_EPISODE_STEPS, type EpisodeInfo } from '../../../../shared/api/models'
import { startPolicyProcess, type PolicyLimits } from '../onnx/policyProcess'
import { frameBytesOf } from './recording'

/** What live play needs of a game port (src/shared/games). */
export interface PlayableGame {
  channels: number
  height: number
  width: number
  numActions: number
  reset(): Float32Array
  /** `finalObs`: when `done`, the ended episode's last frame (`obs` is then the next episode's first). */
  step(action: number): { obs: Float32Array; reward: number; done: boolean; finalObs?: Float32Array }
  channelNames(): readonly string[]
}

export interface EpisodeData {
  info: Omit<EpisodeInfo, 'episodeId'>
  frames: Uint8Array
}

export const LIVE_EPISODE_TIMEOUT_MS = 60_000

export interface LivePlayOptions {
  modelPath: string
  game: PlayableGame
  gameName: string
  inputName: string
  actionNames: string[]
  seed: number
  maxSteps?: number
  timeoutMs?: number
  limits?: PolicyLimits
  /** Stops the episode (the model process ends); the promise then rejects with WatchCancelled. */
  signal?: AbortSignal
}

/** mulberry32: a tiny seeded generator, enough to sample actions reproducibly. */
export function seededUniform(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Index drawn from softmax(logits) with the uniform number `u` in [0, 1). */
export function sampleAction(logits: Float32Array, u: number): number {
  const max = Math.max(...logits)
  const weights = Array.from(logits, (x) => Math.exp(x - max))
  let left = u * weights.reduce((a, b) => a + b, 0)
  for (let i = 0; i < weights.length; i++) {
    left -= weights[i]
    if (left < 0) return i
  }
  return weights.length - 1
}

/** A grid observation (channel-major 0/1 floats) as bits, most significant first (numpy's packbits). */
export function packGrid(obs: Float32Array, out: Uint8Array, offset: number): void {
  for (let i = 0; i < obs.length; i++) if (obs[i] > 0.5) out[offset + (i >> 3)] |= 0x80 >> (i & 7)
}

/** Watching was stopped by whoever asked for it (the dialog closed). */
export class WatchCancelled extends Error {
  constructor() {
    super('Watching was stopped.')
    this.name = 'WatchCancelled'
  }
}

export async function playLiveEpisode(options: LivePlayOptions): Promise<EpisodeData> {
  const { game } = options
  const maxSteps = Math.min(options.maxSteps ?? MAX_EPISODE_STEPS, MAX_EPISODE_STEPS)
  const timeoutMs = options.timeoutMs ?? LIVE_EPISODE_TIMEOUT_MS
  if (options.actionNames.length !== game.numActions) {
    throw new Error(`the model names ${options.actionNames.length} actions but ${options.gameName} has ${game.numActions}`)
  }
  const obsShape = [game.channels, game.height, game.width]
  const frameBytes = frameBytesOf('grid', game.channels, game.height, game.width)
  const frames = new Uint8Array((maxSteps + 1) * frameBytes) // + the end frame
  const actions: number[] = []
  const rewards: number[] = []
  const uniform = seededUniform(options.seed)
  let ended = 'max_steps'
  let frameCount = 0
  const policy = await startPolicyProcess({ modelPath: options.modelPath, inputName: options.inputName, obsShape }, options.limits)
  const started = Date.now()
  try {
    let obs = game.reset()
    while (actions.length < maxSteps) {
      if (options.signal?.aborted) throw new WatchCancelled()
      if (Date.now() - started > timeoutMs) {
        ended = 'max_seconds'
        break
      }
      packGrid(obs, frames, frameCount++ * frameBytes)
      const logits = await policy.logits(obs)
      if (logits.length !== game.numActions) throw new Error(`the model returned ${logits.length} logits for ${game.numActions} actions`)
      if (!logits.every(Number.isFinite)) throw new Error('the model returned logits that are not finite numbers (NaN or infinity)')
      const action = sampleAction(logits, uniform())
      const step = game.step(action)
      actions.push(action)
      rewards.push(step.reward)
      obs = step.obs
      if (step.done) {
        ended = 'game_over'
        if (step.finalObs) packGrid(step.finalObs, frames, frameCount++ * frameBytes)
        break
      }
    }
  } finally {
    policy.close()
  }
  return {
    info: {
      source: 'live',
      game: options.gameName,
      kind: 'grid',
      channels: game.channels,
      height: game.height,
      width: game.width,
      channelNames: [...game.channelNames()],
      actionNames: options.actionNames,
      steps: actions.length,
      frames: frameCount,
      actions,
      rewards,
      score: rewards.reduce((a, b) => a + b, 0),
      ended,
      policy: `actions sampled from the model's policy, seed ${options.seed}`,
      frameBytes,
      note: null,
    },
    frames: frames.slice(0, frameCount * frameBytes),
  }
}
