/**
 * "Watch" on a model: which episode to show and where it comes from. A built-in game's model
 * plays live here when Gantry has that game's port; otherwise (Atari, or a game without a port)
 * the trainer's recording beside the model is replayed. Episodes are kept for their frames to be
 * fetched in chunks; only the last few, so memory stays bounded.
 */
import { randomUUID } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import path from 'node:path'
import { EPISODE_CHUNK_BYTES, MAX_VALIDATE_BYTES, type EpisodeInfo } from '../../../../shared/api/models'
import { RpcError } from '../../../../shared/rpc'
import { readOnnxTopLevel } from '../onnx/onnxMetadata'
import type { PolicyLimits } from '../onnx/policyProcess'
import { playLiveEpisode, WatchCancelled, type EpisodeData, type PlayableGame } from './livePlay'
import { MAX_RECORDING_FILE_BYTES, parseRecording } from './recording'

export const KEPT_EPISODES = 4
/** The observation input of every model the trainer exports (remote/gantry_remote/export.py INPUT_NAME). */
const MODEL_INPUT = 'obs'
export const RECORDING_SUFFIX = '.episode.gz'

export interface WatchDeps {
  /** The verified local copy of a host file (downloading it first); RpcError not_found when the host has none. */
  ensureLocal(relPath: string): Promise<string>
  /** The TypeScript port of a built-in game, or null when Gantry has none for it. */
  builtinGame(name: string, seed: number): PlayableGame | null
  limits?: PolicyLimits
  /** Stops a live episode (the caller cancelled): the watch then fails with RpcError cancelled. */
  signal?: AbortSignal
}

export interface Watcher {
  watch(deps: WatchDeps, relPath: string, seed: number): Promise<EpisodeInfo>
  frames(episodeId: string, from: number, count: number): { base64: string }
}

function jsonList(text: string | undefined): string[] | null {
  try {
    const v: unknown = JSON.parse(text ?? '')
    return Array.isArray(v) ? v.map(String) : null
  } catch {
    return null
  }
}

async function modelMetadata(localPath: string, file: string): Promise<Record<string, string>> {
  const size = (await stat(localPath)).size
  if (size > MAX_VALIDATE_BYTES) throw new RpcError('invalid_input', `${file} is ${Math.round(size / 1024 ** 2)} MB, more than any model Gantry plays (${MAX_VALIDATE_BYTES / 1024 ** 2} MB). Check that this is the model you meant.`)
  const top = readOnnxTopLevel(await readFile(localPath))
  if (!top.ok) throw new RpcError('invalid_input', `${file} is not an ONNX file: ${top.reason}. Download it again.`)
  return top.metadata
}

async function replayRecording(deps: WatchDeps, relPath: string, file: string, note: string | null): Promise<EpisodeData> {
  const name = `${file}${RECORDING_SUFFIX}`
  let localPath: string
  try {
    localPath = await deps.ensureLocal(`${relPath}${RECORDING_SUFFIX}`)
  } catch (error) {
    if (error instanceof RpcError && error.code === 'not_found') {
      throw new RpcError('not_found', `${file} has no episode recording to replay (${name} is not on the host). Models exported before Gantry recorded episodes, or whose recording failed (train.log says why), have none; the next export of this game will.`)
    }
    throw error
  }
  const size = (await stat(localPath)).size
  const parsed = size > MAX_RECORDING_FILE_BYTES ? { ok: false as const, reason: `it is ${Math.round(size / 1024 ** 2)} MB, more than the ${MAX_RECORDING_FILE_BYTES / 1024 ** 2} MB a recording can be` } : parseRecording(await readFile(localPath))
  if (!parsed.ok) throw new RpcError('invalid_input', `The recording ${name} cannot be replayed: ${parsed.reason}. Download it again; if it stays damaged, the game's next export records a new one.`)
  const h = parsed.recording.header
  return {
    info: {
      source: 'recording',
      game: h.game,
      kind: h.kind,
      channels: h.channels,
      height: h.height,
      width: h.width,
      channelNames: h.channel_names,
      actionNames: h.action_names,
      steps: h.steps,
      frames: h.steps,
      actions: h.actions,
      rewards: h.rewards,
      score: h.score,
      ended: h.ended,
      policy: h.policy === 'sample' ? `actions sampled from the model's policy, seed ${h.seed}` : 'the most likely action each step',
      frameBytes: parsed.recording.frameBytes,
      note,
    },
    frames: parsed.recording.frames,
  }
}

export function createWatcher(): Watcher {
  const kept = new Map<string, EpisodeData>()

  return {
    async watch(deps, relPath, seed) {
      const file = path.posix.basename(relPath)
      if (!file.endsWith('.onnx')) throw new RpcError('invalid_input', `${file} is not a model; Watch plays a .onnx model's episode.`)
      const localPath = await deps.ensureLocal(relPath)
      const metadata = await modelMetadata(localPath, file)
      const gameName = metadata.game ?? ''
      const actionNames = jsonList(metadata.action_names)
      let episode: EpisodeData
      const game = metadata.backend === 'builtin' && actionNames ? deps.builtinGame(gameName, seed) : null
      if (game && actionNames) {
        try {
          episode = await playLiveEpisode({ modelPath: localPath, game, gameName, inputName: MODEL_INPUT, actionNames, seed, limits: deps.limits, signal: deps.signal })
        } catch (error) {
          if (error instanceof WatchCancelled) throw new RpcError('cancelled', `Watching ${file} was stopped.`)
          throw new RpcError('remote_failed', `${file} could not play ${gameName} on this computer: ${(error as Error).message}. Validate the model to see whether it loads.`)
        }
      } else {
        const why = metadata.backend === 'builtin' ? `Gantry has no port of the built-in game "${gameName}" to play it live, so this is the trainer's recording.` : null
        episode = await replayRecording(deps, relPath, file, why)
      }
      const episodeId = randomUUID().replace(/-/g, '')
      kept.set(episodeId, episode)
      while (kept.size > KEPT_EPISODES) kept.delete(kept.keys().next().value as string)
      return { episodeId, ...episode.info }
    },
    frames(episodeId, from, count) {
      const episode = kept.get(episodeId)
      if (!episode) throw new RpcError('not_found', `That episode is no longer kept (Gantry keeps the last ${KEPT_EPISODES}). Press Watch again.`)
      const { frameBytes, frames } = episode.info
      if (count * frameBytes > EPISODE_CHUNK_BYTES) throw new RpcError('invalid_input', `Ask for at most ${Math.floor(EPISODE_CHUNK_BYTES / frameBytes)} frames at a time.`)
      const start = Math.min(from, frames) * frameBytes
      const end = Math.min(from + count, frames) * frameBytes
      return { base64: Buffer.from(episode.frames.buffer, episode.frames.byteOffset + start, end - start).toString('base64') }
    },
  }
}
