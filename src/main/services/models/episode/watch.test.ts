/**
 * "Watch" through the models service on This computer, with models the real trainer exported:
 * an Atari Breakout model (ale-py) replays the episode its trainer recorded, downloaded and
 * verified beside the model in the backup folder; a built-in Breakout model plays live in the
 * isolated model process against the game's TypeScript port; a model without a recording, and a
 * damaged recording, each get a sentence instead of a player.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CallContext } from '../../../../shared/contract'
import { createBuiltinGame } from '../../../../shared/games'
import { createEventBus } from '../../eventBus'
import { createHostRegistry } from '../../host/hostRegistry'
import { createLocalSession } from '../../local/localSession'
import type { Platform } from '../../platform'
import { createModelsService, type ModelsService } from '../modelsService'
import { REPO_ROOT, requirePrerequisite } from '../../../../../test/support/prerequisites'
import { makeOnnxFixture, torchAvailable, VENV_PYTHON } from '../../../../../test/support/models/onnxFixtures'
import { finishedRealRun } from '../../../../../test/support/models/realTrainer'

/** `count` bits of a packed grid frame (most significant bit first), as 0/1. */
const unpackGridBits = (bytes: Uint8Array, count: number) => Array.from({ length: count }, (_, i) => (bytes[i >> 3] >> (7 - (i & 7))) & 1)

const ctx: CallContext = { connectionId: 't', transport: 'ws', signal: new AbortController().signal }
let RUN = ''
const aleAvailable = () => spawnSync(VENV_PYTHON, ['-c', 'import ale_py, gymnasium, torch, onnx'], { encoding: 'utf8' }).status === 0

describe.skipIf(!requirePrerequisite(torchAvailable() && aleAvailable(), 'Python venv with torch, onnx and ale-py', "create .venv with `pip install torch onnx numpy 'ale-py>=0.12.1' gymnasium` (see .ci/run)"))('watching models on This computer', () => {
  let dir: string
  let root: string
  let service: ModelsService
  const ref = (p: string) => ({ instanceId: 'local', runId: RUN, path: p })
  const modelPath = (game: string, step: number) => `runs/${RUN}/games/${game}/models/${game === 'atari-breakout' ? 'breakout' : game}-${step}.onnx`

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-watch-'))
    root = path.join(dir, 'host')
    RUN = await finishedRealRun(root, [
      { game: 'atari-breakout', env: 'Breakout', backend: 'ale', totalSteps: 64 },
      { game: 'breakout', backend: 'builtin', totalSteps: 512 },
    ])
    // A model exported without a recording, for a built-in game Gantry has no port of.
    makeOnnxFixture(path.join(root, 'runs', RUN, 'games', 'pong', 'models'), { game: 'pong' })
    const platform: Platform = {
      appVersion: 'test',
      dataDir: path.join(dir, 'data'),
      bundleDir: REPO_ROOT,
      secrets: { info: () => ({ backend: 'memory', persistent: false, warning: null }), get: async () => null, set: async () => {}, delete: async () => {} },
      notify: null,
      chooseFolder: null,
      startDrag: null,
      log: () => {},
    }
    const hosts = createHostRegistry(createLocalSession({ root, remoteCodeDir: path.join(REPO_ROOT, 'remote'), python: 'python3' }))
    service = createModelsService({ platform, bus: createEventBus(), hosts, listInstanceIds: async () => ['local'], backupCheckIntervalMs: 3_600_000 })
  }, 300_000)

  afterAll(async () => {
    await service?.dispose()
    rmSync(dir, { recursive: true, force: true })
  })

  it('lists each recording beside its model, with the sha256 the trainer wrote', async () => {
    const rows = await service.api['models.list']({ instanceId: 'local', runId: RUN }, ctx)
    const recordings = rows.filter((r) => r.kind === 'recording')
    expect(recordings.map((r) => r.file).sort()).toEqual(['breakout-512.onnx.episode.gz', 'breakout-64.onnx.episode.gz'])
    const manifest = JSON.parse(readFileSync(path.join(root, 'runs', RUN, 'games', 'atari-breakout', 'models', 'manifest.json'), 'utf8')) as { models: Array<{ episode: string; episode_sha256: string }> }
    expect(recordings.find((r) => r.game === 'atari-breakout')!.sha256).toBe(manifest.models[0].episode_sha256)
  })

  it("replays the Atari model's recorded episode, downloaded and verified beside the model", async () => {
    const episode = await service.api['models.watch'](ref(modelPath('atari-breakout', 64)), ctx)
    expect(episode.frames).toBe(episode.steps)
    expect(episode).toMatchObject({ source: 'recording', game: 'Breakout', kind: 'grey', channels: 1, height: 84, width: 84, frameBytes: 84 * 84, actionNames: ['NOOP', 'FIRE', 'RIGHT', 'LEFT'], note: null })
    expect(episode.steps).toBeGreaterThan(0)
    expect(episode.actions).toHaveLength(episode.steps)
    expect(episode.score).toBe(episode.rewards.reduce((a, b) => a + b, 0))

    // The frames that come back are the trainer's bytes, in order, whatever the chunking.
    const hostFile = gunzipSync(readFileSync(path.join(root, modelPath('atari-breakout', 64) + '.episode.gz')))
    const body = hostFile.subarray(12 + hostFile.readUInt32LE(8))
    const chunks: Buffer[] = []
    for (let from = 0; from < episode.steps; from += 100) {
      chunks.push(Buffer.from((await service.api['models.episodeFrames']({ episodeId: episode.episodeId, from, count: 100 }, ctx)).base64, 'base64'))
    }
    expect(Buffer.concat(chunks).equals(body)).toBe(true)
    // A chunk stays well under the web transport's 4 MB message limit.
    await expect(service.api['models.episodeFrames']({ episodeId: episode.episodeId, from: 0, count: 1000 }, ctx)).rejects.toThrow('Ask for at most 148 frames at a time.')

    // Both files are verified copies inside this run's folder of the backup folder.
    const backupRun = path.join((await service.backupFolder.settings()).backupFolder, 'local', RUN)
    for (const p of [modelPath('atari-breakout', 64), modelPath('atari-breakout', 64) + '.episode.gz']) {
      const copy = await service.backupFolder.verifiedCopy('local', RUN, p)
      expect(copy?.localPath.startsWith(backupRun + path.sep)).toBe(true)
    }
  })

  it('plays the built-in model live against the TypeScript game: its frames and rewards are the game under its actions', async () => {
    const episode = await service.api['models.watch']({ ...ref(modelPath('breakout', 512)), seed: 7 }, ctx)
    expect(episode).toMatchObject({ source: 'live', game: 'breakout', kind: 'grid', channels: 4, height: 10, width: 10, channelNames: ['paddle', 'ball', 'trail', 'brick'], actionNames: ['noop', 'left', 'right'] })
    expect(episode.steps).toBeGreaterThan(10)
    expect(episode.ended).toBe('game_over') // a model trained for 512 steps misses the ball long before 1000 steps
    // One frame a step, and after a game over the frame that shows how it ended.
    expect(episode.frames).toBe(episode.steps + 1)
    const frames = Buffer.from((await service.api['models.episodeFrames']({ episodeId: episode.episodeId, from: 0, count: episode.frames }, ctx)).base64, 'base64')
    expect(frames.length).toBe(episode.frames * 50)

    const game = createBuiltinGame('breakout', { seed: 7 })
    const bits = (obs: Float32Array) => Array.from(obs, (v) => (v > 0.5 ? 1 : 0))
    let obs = game.reset()
    episode.actions.forEach((action, i) => {
      expect(unpackGridBits(frames.subarray(i * 50, (i + 1) * 50), 400)).toEqual(bits(obs))
      const step = game.step(action)
      expect(step.reward).toBe(episode.rewards[i])
      expect(step.done).toBe(i === episode.steps - 1)
      obs = step.done ? step.finalObs! : step.obs
    })
    expect(unpackGridBits(frames.subarray(episode.steps * 50), 400)).toEqual(bits(obs))

    // Same model, same seed: the same episode.
    const again = await service.api['models.watch']({ ...ref(modelPath('breakout', 512)), seed: 7 }, ctx)
    expect(again.actions).toEqual(episode.actions)
  }, 120_000)

  it('stops a live episode when its call is cancelled (the dialog closed)', async () => {
    const call = new AbortController()
    const watching = service.api['models.watch']({ ...ref(modelPath('breakout', 512)), seed: 7 }, { ...ctx, signal: call.signal })
    call.abort()
    await expect(watching).rejects.toMatchObject({ code: 'cancelled', message: expect.stringMatching(/Watching breakout-512\.onnx was stopped/) })
  }, 120_000)

  it('says so when a model has no recording to replay', async () => {
    await expect(service.api['models.watch'](ref(modelPath('pong', 4096)), ctx)).rejects.toThrow(
      /^pong-4096\.onnx has no episode recording to replay \(pong-4096\.onnx\.episode\.gz is not on the host\)\. Models exported before Gantry recorded episodes.*the next export of this game will\.$/,
    )
  })

  it('refuses a damaged local recording with the reason, and says to download it again', async () => {
    const copy = await service.backupFolder.verifiedCopy('local', RUN, modelPath('atari-breakout', 64) + '.episode.gz')
    const bytes = readFileSync(copy!.localPath)
    writeFileSync(copy!.localPath, Buffer.concat([bytes.subarray(0, 40), Buffer.alloc(bytes.length - 40, 0x55)])) // same size, damaged
    await expect(service.api['models.watch'](ref(modelPath('atari-breakout', 64)), ctx)).rejects.toThrow(
      /^The recording breakout-64\.onnx\.episode\.gz cannot be replayed: .+\. Download it again; if it stays damaged, the game's next export records a new one\.$/,
    )
  })

  it('says an episode it no longer keeps is gone', async () => {
    await expect(service.api['models.episodeFrames']({ episodeId: 'nosuchepisode', from: 0, count: 1 }, ctx)).rejects.toThrow(/no longer kept/)
  })
})
