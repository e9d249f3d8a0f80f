/**
 * Models: the run's exported models and checkpoints, verified downloads into a local backup
 * folder, automatic backups, and local ONNX validation.
 */
import { z } from 'zod'
import { GameName, RemoteRelPath, RunId } from '../ids'
import { InstanceId } from './instances'

export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'sha256 is 64 lowercase hex digits.')

export const LocalStatus = z.enum(['missing', 'queued', 'downloading', 'verified', 'mismatch', 'failed'])
export type LocalStatus = z.infer<typeof LocalStatus>

export const ModelRow = z.object({
  runId: RunId,
  game: GameName,
  kind: z.enum(['model', 'probe', 'recording', 'checkpoint']),
  file: z.string(),
  /** Key of the file: its path relative to the host's Gantry root. */
  path: RemoteRelPath,
  size: z.number().int().nonnegative(),
  sha256: Sha256,
  step: z.number().int().nullable(),
  episodes: z.number().int().nullable(),
  meanReturn: z.number().nullable(),
  createdTs: z.number().nullable(),
  local: z.object({
    status: LocalStatus,
    /** 0..1 while downloading. */
    progress: z.number().nullable(),
    /** Absolute path of the verified copy on this computer. */
    localPath: z.string().nullable(),
    verifiedAt: z.number().nullable(),
    /** Why the last attempt failed or why the copy differs. */
    message: z.string().nullable(),
  }),
})
export type ModelRow = z.infer<typeof ModelRow>

export const ModelsSettings = z.object({
  backupFolder: z.string().min(1).max(4096),
  /** Hours between scheduled backups; 0 turns the schedule off. */
  scheduleHours: z.number().min(0).max(24 * 30),
  /** Back up when a model is exported or a game completes. */
  backupOnEvents: z.boolean(),
  includeCheckpoints: z.boolean(),
})
export type ModelsSettings = z.infer<typeof ModelsSettings>

export const BackupRecord = z.object({
  id: z.string(),
  trigger: z.enum(['event', 'schedule', 'manual']),
  instanceId: z.string(),
  runId: z.string().nullable(),
  startedAt: z.number(),
  finishedAt: z.number().nullable(),
  downloaded: z.number().int(),
  skipped: z.number().int(),
  failures: z.array(z.object({ file: z.string(), message: z.string() })),
})
export type BackupRecord = z.infer<typeof BackupRecord>

export const BackupHistory = z.object({
  lastSuccessAt: z.number().nullable(),
  lastFailureAt: z.number().nullable(),
  nextScheduledAt: z.number().nullable(),
  running: z.boolean(),
  records: z.array(BackupRecord),
})
export type BackupHistory = z.infer<typeof BackupHistory>

export const ValidationReport = z.object({
  file: z.string(),
  /** True only when the model loaded, has Gantry metadata and reproduced its probe output. */
  validated: z.boolean(),
  /** The reasons it is not validated, each a sentence the user can act on. */
  problems: z.array(z.string()),
  inputs: z.array(z.object({ name: z.string(), type: z.string(), shape: z.array(z.union([z.number(), z.string()])) })),
  outputs: z.array(z.object({ name: z.string(), type: z.string(), shape: z.array(z.union([z.number(), z.string()])) })),
  metadata: z.record(z.string(), z.string()),
  probe: z
    .object({
      maxAbsDiff: z.number(),
      tolerance: z.number(),
      latencyMs: z.number(),
      /** Softmax of the probe frame's logits, with the action names from the metadata. */
      actions: z.array(z.object({ name: z.string(), probability: z.number() })),
    })
    .nullable(),
})
export type ValidationReport = z.infer<typeof ValidationReport>

const FileRef = z.object({ instanceId: InstanceId, runId: RunId, path: RemoteRelPath })

/** An episode of a model playing, as the Watch player gets it: everything but the frames, which come in chunks. */
export const EpisodeInfo = z.object({
  episodeId: z.string(),
  /** `live`: the model played a built-in game on this computer just now; `recording`: the trainer's recording at export. */
  source: z.enum(['live', 'recording']),
  game: z.string(),
  /** `grid`: channels × height × width cells, one bit each, channel-major; `grey`: one byte a pixel. */
  kind: z.enum(['grid', 'grey']),
  channels: z.number().int().positive(),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  channelNames: z.array(z.string()),
  actionNames: z.array(z.string()),
  steps: z.number().int().nonnegative(),
  /** Frames to show: one a step (what the agent saw when it chose that step's action), plus, when the game ended in a live episode, the frame after its last action (how it ended). */
  frames: z.number().int().nonnegative(),
  actions: z.array(z.number().int().nonnegative()),
  rewards: z.array(z.number()),
  score: z.number(),
  /** Why the episode ends where it does: game_over, truncated (the game's own step limit), max_steps, max_seconds. */
  ended: z.string(),
  /** How actions were chosen, in words ("sampled from the policy, seed 1000003"). */
  policy: z.string(),
  /** Bytes of one frame in `models.episodeFrames`. */
  frameBytes: z.number().int().positive(),
  /** Anything the user should know about where this episode came from (e.g. why it is a recording, not live). */
  note: z.string().nullable(),
})
export type EpisodeInfo = z.infer<typeof EpisodeInfo>

/** Frames travel in chunks well under the web transport's message limit. */
export const EPISODE_CHUNK_BYTES = 1024 * 1024
/** Steps of a live episode and of a recording (the trainer's cap too: remote/gantry_remote/eval_recording.py). */
export const MAX_EPISODE_STEPS = 1000

/** Uploads (browser file inputs / drops) travel in chunks small enough for one message. */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024
export const MAX_VALIDATE_BYTES = 256 * 1024 * 1024

export const methods = {
  'models.list': {
    input: z.object({ instanceId: InstanceId, runId: RunId }).strict(),
    output: z.array(ModelRow),
  },
  /** Queue downloads; progress and results arrive as `models.progress` events. */
  'models.download': {
    input: z.object({ instanceId: InstanceId, runId: RunId, paths: z.array(RemoteRelPath).max(10_000).optional() }).strict(),
    output: z.object({ queued: z.number().int() }),
  },
  'models.cancel': {
    input: z.object({ instanceId: InstanceId, runId: RunId, path: RemoteRelPath.optional() }).strict(),
    output: z.object({ cancelled: z.number().int() }),
  },
  'models.settings': {
    input: z.object({}).strict(),
    output: ModelsSettings,
  },
  'models.updateSettings': {
    input: ModelsSettings.partial().strict(),
    output: ModelsSettings,
  },
  /** Native folder picker for the backup folder; `supported: false` where there is none. */
  'models.chooseBackupFolder': {
    input: z.object({}).strict(),
    output: z.object({ supported: z.boolean(), settings: ModelsSettings }),
  },
  'models.backupNow': {
    input: z.object({ instanceId: InstanceId.optional() }).strict(),
    output: BackupHistory,
  },
  'models.backupHistory': {
    input: z.object({}).strict(),
    output: BackupHistory,
  },
  /** Validate the verified local copy (downloading it first when needed). */
  'models.validate': {
    input: FileRef.strict(),
    output: ValidationReport,
  },
  /**
   * Watch a model play: a built-in game's model plays a fresh episode here (ONNX Runtime in the
   * isolated model process, the game's TypeScript port in the backend); an Atari model replays the
   * episode its trainer recorded at export. Downloads and verifies what it needs first. A live
   * episode stops when the call is cancelled (the dialog closed) and the call fails as cancelled.
   */
  'models.watch': {
    input: FileRef.extend({ seed: z.number().int().min(0).max(2 ** 31 - 1).optional() }).strict(),
    output: EpisodeInfo,
  },
  /** Frames [from, from + count) of an episode `models.watch` returned (the backend keeps the last few). */
  'models.episodeFrames': {
    input: z.object({ episodeId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/), from: z.number().int().nonnegative(), count: z.number().int().positive().max(MAX_EPISODE_STEPS) }).strict(),
    output: z.object({ base64: z.string() }),
  },
  /** Drag a model out of the window (Electron): downloads and verifies it first when needed. */
  'models.startDrag': {
    input: FileRef.strict(),
    output: z.object({ started: z.boolean(), localPath: z.string() }),
  },
  /** A chunk of a verified local copy, for the browser's "Save a copy". */
  'models.readChunk': {
    input: FileRef.extend({ offset: z.number().int().nonnegative(), length: z.number().int().positive().max(UPLOAD_CHUNK_BYTES) }).strict(),
    output: z.object({ base64: z.string(), size: z.number().int(), eof: z.boolean() }),
  },
  /** Upload a dropped/picked file in chunks, then validate it. */
  'models.uploadChunk': {
    input: z
      .object({
        uploadId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
        name: z.string().min(1).max(255),
        offset: z.number().int().nonnegative().max(MAX_VALIDATE_BYTES),
        base64: z.string().max(Math.ceil((UPLOAD_CHUNK_BYTES * 4) / 3) + 8),
      })
      .strict(),
    output: z.object({ received: z.number().int() }),
  },
  'models.validateUpload': {
    input: z
      .object({
        uploadId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/),
        /** Upload id of the matching `.probe.json`, when the user dropped it too. */
        probeUploadId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/).optional(),
      })
      .strict(),
    output: ValidationReport,
  },
} as const

export const ProgressEvent = z.object({
  instanceId: z.string(),
  runId: z.string(),
  path: z.string(),
  status: LocalStatus,
  received: z.number(),
  total: z.number(),
  bytesPerSec: z.number().nullable(),
  message: z.string().nullable(),
})
export type ProgressEvent = z.infer<typeof ProgressEvent>

export const events = {
  /** A download's state changed (throttled while bytes flow). Keyed by instanceId. */
  'models.progress': ProgressEvent,
  /** The backup history changed (a backup started or finished). */
  'models.backup': BackupHistory,
} as const
