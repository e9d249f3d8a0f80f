/**
 * Training runs on an instance: launch a plan, control the supervisor, and the live journal
 * stream (batched events plus a bounded history kept in main so a renderer can back-fill).
 */
import { z } from 'zod'
import { Plan, RunEvent } from '../remoteProtocol'
import { GameName, RunId } from '../ids'
import { InstanceId } from './instances'

const RunRef = z.object({ instanceId: InstanceId, runId: RunId }).strict()

export const BuiltinPlan = z.object({ id: z.string(), name: z.string(), description: z.string(), plan: Plan })
export type BuiltinPlan = z.infer<typeof BuiltinPlan>

export const RunSummary = z.object({
  runId: RunId,
  planName: z.string().nullable(),
  state: z.string().nullable(),
  startedTs: z.number().nullable(),
  supervisorAlive: z.boolean(),
})
export type RunSummary = z.infer<typeof RunSummary>

export const StreamState = z.object({
  instanceId: z.string(),
  runId: z.string(),
  /** live: events flowing; stale: no heartbeat for a while; reconnecting: re-attaching; ended: the run finished; failed: cannot attach (message says why). */
  status: z.enum(['attaching', 'live', 'stale', 'reconnecting', 'ended', 'failed']),
  lastSeq: z.number().int(),
  /** Unix ms of the last line from the host (event or heartbeat). */
  lastHeardAt: z.number().nullable(),
  message: z.string().nullable(),
  reattaches: z.number().int(),
})
export type StreamState = z.infer<typeof StreamState>

/** The instance's "after the run" command for one run, and where it stands. */
export const AfterRunStatus = z.object({
  instanceId: z.string(),
  runId: z.string(),
  /** The command that will run (or ran) after this run; null when there is none. */
  command: z.string().nullable(),
  /**
   * off: nothing runs after this run (no command set, This computer, a SLURM cluster, or the run was
   * never seen training while a command was set); armed: runs once the run ends and its models are
   * backed up; waiting: the run ended and the backup is not verified yet (message says what is
   * missing); running: started now; started: started, but no outcome came back (the host went away,
   * as it does when the command stops it); finished: ran (exitCode, output); cancelled.
   */
  state: z.enum(['off', 'armed', 'waiting', 'running', 'started', 'finished', 'cancelled']),
  message: z.string().nullable(),
  startedAt: z.number().nullable(),
  finishedAt: z.number().nullable(),
  /** null when the command was killed at its time limit or never reported. */
  exitCode: z.number().int().nullable(),
  /** The end of what the command printed. */
  output: z.string().nullable(),
})
export type AfterRunStatus = z.infer<typeof AfterRunStatus>

/** Served by the after-run orchestration (services/runs/afterRun.ts), beside the run controls. */
export const afterRunMethods = {
  'runs.afterRun': { input: RunRef, output: AfterRunStatus },
  /** Cancel the after-run command of this run while it has not started. */
  'runs.cancelAfterRun': { input: RunRef, output: AfterRunStatus },
} as const

/** A game picture (remote/PROTOCOL.md, thumbnail.png) is refused above these: the host is untrusted. */
export const THUMBNAIL_MAX_BYTES = 64 * 1024
export const THUMBNAIL_MAX_SIDE = 512

/** The newest picture of a game as its trainer wrote it, or `none` before the first. */
export const GameThumbnail = z.discriminatedUnion('status', [
  z.object({ status: z.literal('none') }),
  z.object({
    status: z.literal('ok'),
    /** The PNG file, base64 (checked: signature, IHDR, IEND, size and dimensions). */
    png: z.string().max(Math.ceil(THUMBNAIL_MAX_BYTES / 3) * 4),
    width: z.number().int().min(1).max(THUMBNAIL_MAX_SIDE),
    height: z.number().int().min(1).max(THUMBNAIL_MAX_SIDE),
    /** When the trainer wrote it (the host's clock, Unix ms). */
    writtenAt: z.number(),
  }),
])
export type GameThumbnail = z.infer<typeof GameThumbnail>

export const methods = {
  ...afterRunMethods,
  'runs.plans': { input: z.object({}).strict(), output: z.array(BuiltinPlan) },
  'runs.list': { input: z.object({ instanceId: InstanceId }).strict(), output: z.array(RunSummary) },
  'runs.launch': {
    input: z.object({ instanceId: InstanceId, plan: Plan }).strict(),
    output: z.object({ runId: z.string() }),
  },
  /** Start following a run's journal (idempotent); returns the stream state. */
  'runs.watch': { input: RunRef, output: StreamState },
  /** Journal backlog kept in main from fromSeq on; `firstSeq` > fromSeq when older events were dropped. */
  'runs.history': {
    input: RunRef.extend({ fromSeq: z.number().int().nonnegative() }).strict(),
    /** `events`: a compacted snapshot of what left the bounded tail, then the tail; `summarised`: journal events folded away (count them as seen). */
    output: z.object({ events: z.array(RunEvent), firstSeq: z.number().int(), summarised: z.number().int().nonnegative(), stream: StreamState }),
  },
  /** Start a stopped or failed run again under the same id (the host's `start --run-id`); not the per-game `runs.resume`. */
  'runs.resumeRun': { input: RunRef, output: z.object({ runId: z.string() }) },
  'runs.stop': { input: RunRef, output: z.object({ state: z.string() }) },
  'runs.pause': { input: RunRef.extend({ game: GameName }).strict(), output: z.object({ ok: z.literal(true), note: z.string().nullable() }) },
  'runs.resume': { input: RunRef.extend({ game: GameName }).strict(), output: z.object({ ok: z.literal(true), note: z.string().nullable() }) },
  /** The small live picture the game's trainer writes every few seconds (games/<game>/thumbnail.png). */
  'runs.thumbnail': { input: RunRef.extend({ game: GameName }).strict(), output: GameThumbnail },
  'runs.setSlots': { input: RunRef.extend({ slots: z.number().int().min(1).max(256) }).strict(), output: z.object({ ok: z.literal(true), note: z.string().nullable() }) },
} as const

export const events = {
  /** Journal events, batched (a few times a second), keyed by `${instanceId}/${runId}`. */
  'runs.events': z.object({ instanceId: z.string(), runId: z.string(), events: z.array(RunEvent) }),
  /** The attach stream's health, keyed like runs.events. */
  'runs.stream': StreamState,
  /** The list of runs on an instance changed (launch, stop, completion). */
  'runs.changed': z.object({ instanceId: z.string(), runs: z.array(RunSummary) }),
  /** A run's after-run command changed state; keyed like runs.events. */
  'runs.afterRun': AfterRunStatus,
} as const

export const runKey = (instanceId: string, runId: string): string => `${instanceId}/${runId}`
