/**
 * Zod mirror of remote/PROTOCOL.md: the journal events `attach` prints and the JSON the
 * gantry_remote CLI answers with. Everything read from a host is parsed here before it is used.
 * Unknown fields are ignored (passthrough is not needed: readers only use what they know).
 */
import { z } from 'zod'
import { FileName, GameName, RunId } from './ids'

export const PROTOCOL_VERSION = 1

const num = z.number().finite()
const common = {
  v: z.literal(PROTOCOL_VERSION),
  ts: num,
  run: RunId,
  seq: z.number().int().nonnegative(),
}
const game = GameName
/**
 * Why a trainer stopped (remote/PROTOCOL.md). A cause this app does not know yet (a newer host) reads as 'other'.
 * preempted, time_limit, node_fail and cancelled come from SLURM runs (PROTOCOL.md, "SLURM states → events");
 * cuda is a CUDA or driver fault (restarting on the same GPU will not help).
 */
export const FAILURE_CAUSES = ['crash', 'oom', 'nan', 'cuda', 'signal', 'frozen', 'other', 'preempted', 'time_limit', 'node_fail', 'cancelled'] as const
export const FailureCause = z.enum(FAILURE_CAUSES).catch('other')
export type FailureCause = z.infer<typeof FailureCause>

export const GpuSample = z.object({
  index: z.number().int(),
  name: z.string(),
  util: num.nullable(),
  mem_used: num.nullable(),
  mem_total: num.nullable(),
  temp: num.nullable(),
  power: num.nullable(),
  /** SLURM runs: the compute node the GPU is on (the same index exists on every node). */
  node: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
  /** SLURM runs: the games whose jobs sampled this GPU. */
  games: z.array(GameName).max(64).optional(),
})
export type GpuSample = z.infer<typeof GpuSample>

/** A GPU's index on its host (what CUDA_VISIBLE_DEVICES names). */
const GpuIndex = z.number().int().min(0).max(63)

/** What a restart rule does about a cause (remote/gantry_remote/restart_rules.py). */
export const RESTART_ACTIONS = ['restart', 'fewer_envs', 'lower_lr', 'pause', 'fail'] as const
const RestartAction = z.enum(RESTART_ACTIONS).catch('restart')
/** One trainer argument a rule changed, e.g. num_envs 256 → 128. */
const RuleChange = z.object({ arg: z.string().regex(/^[A-Za-z0-9_]{1,64}$/), from: z.union([num, z.string().max(100)]), to: z.union([num, z.string().max(100)]) })
export type RuleChange = z.infer<typeof RuleChange>

const ev = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) => z.object({ ...common, type: z.literal(type), ...shape })

export const RunEvent = z.discriminatedUnion('type', [
  ev('run_started', { plan_name: z.string(), slots: z.number().int(), games: z.array(game), resumed: z.boolean(), gpus: z.array(GpuIndex).optional() }),
  ev('supervisor_started', { pid: z.number().int(), adopted: z.array(game) }),
  // target_episodes: written by supervisors since the card shows "0 / target" while queued; older journals lack it.
  ev('game_queued', { game, target_episodes: z.number().int().positive().optional() }),
  ev('game_started', { game, pid: z.number().int(), attempt: z.number().int(), resumed_from_checkpoint: z.boolean(), gpu: GpuIndex.nullable().optional() }),
  ev('progress', {
    game,
    episodes: z.number().int().nonnegative(),
    target_episodes: z.number().int().positive(),
    mean_return: num.nullable(),
    global_step: z.number().int().nonnegative(),
    sps: num.nullable(),
    episodes_per_hour: num.nullable(),
  }),
  ev('checkpoint', { game, file: FileName, global_step: z.number().int() }),
  ev('model_exported', { game, file: FileName, sha256: z.string(), size: z.number().int(), global_step: z.number().int() }),
  ev('game_restarting', {
    game,
    cause: FailureCause,
    attempt: z.number().int(),
    exit_code: z.number().int().nullable(),
    detail: z.string().nullable(),
    delay_s: num,
    /** The plan's restart rule for this cause (PROTOCOL.md "Restart rules") and what it changed. */
    rule: RestartAction.optional(),
    changes: z.array(RuleChange).max(16).optional(),
    note: z.string().max(500).optional(),
  }),
  ev('game_failed', { game, cause: FailureCause, detail: z.string().nullable() }),
  ev('game_completed', { game, episodes: z.number().int() }),
  /** cause/detail/rule: a restart rule paused it (a CUDA fault), not a person. */
  ev('game_paused', { game, cause: FailureCause.optional(), detail: z.string().nullable().optional(), rule: RestartAction.optional() }),
  ev('game_resumed', { game }),
  ev('game_stopped', { game }),
  ev('slots_changed', { slots: z.number().int() }),
  // SLURM runs: the game's job changed state (PENDING with its reason, RUNNING on a node, …).
  ev('slurm_job', {
    game,
    job_id: z.string().max(64),
    state: z.string().max(32),
    reason: z.string().max(200),
    node: z.string().max(200),
    restarts: z.number().int().nonnegative().optional(),
    queue_wait_s: num.nullable().optional(),
  }),
  ev('gpu', { gpus: z.array(GpuSample) }),
  ev('gpu_unavailable', { reason: z.string() }),
  ev('mps_unavailable', { reason: z.string() }),
  /** The run's budget as the supervisor counts it (PROTOCOL.md "Budget"): spent and projected in `unit`. */
  ev('budget', {
    spent: num.nonnegative(),
    projected: num.nonnegative().nullable(),
    limit: num.positive(),
    unit: z.enum(['usd', 'hours']),
    status: z.enum(['ok', 'over_projection', 'reached']).catch('ok'),
    on_limit: z.enum(['stop', 'warn']).catch('warn'),
    active_hours: num.nonnegative(),
    /** SLURM runs: the GPU-hours the jobs used, which the budget is counted from (price per GPU-hour). */
    gpu_hours: num.nonnegative().optional(),
  }),
  ev('heartbeat', { transient: z.boolean().optional(), supervisor_alive: z.boolean().optional() }),
  ev('run_completed', { state: z.enum(['completed', 'stopped', 'failed']) }),
])
export type RunEvent = z.infer<typeof RunEvent>
export type RunEventOf<T extends RunEvent['type']> = Extract<RunEvent, { type: T }>

export type ParsedLine =
  | { kind: 'event'; event: RunEvent }
  /** A type this app does not know yet but with our protocol version: skipped, not fatal. */
  | { kind: 'unknown_type'; type: string; seq: number | null }
  | { kind: 'unsupported_version'; version: unknown; message: string }
  | { kind: 'invalid'; message: string }

const Envelope = z.object({ v: z.unknown(), type: z.string(), seq: z.number().int().optional() })

export function unsupportedVersionMessage(version: unknown): string {
  return `The host runs a newer Gantry remote protocol (v${String(version)}) than this app understands (v${PROTOCOL_VERSION}). Update the Gantry app, or set the host up again with this version.`
}

/** One line of `attach` output → an event, or why it cannot be used. Never throws. */
export function parseEventLine(line: string): ParsedLine {
  let raw: unknown
  try {
    raw = JSON.parse(line)
  } catch {
    return { kind: 'invalid', message: `Not JSON: ${line.slice(0, 120)}` }
  }
  const envelope = Envelope.safeParse(raw)
  if (!envelope.success) return { kind: 'invalid', message: `Not a journal event: ${line.slice(0, 120)}` }
  if (envelope.data.v !== PROTOCOL_VERSION) {
    return { kind: 'unsupported_version', version: envelope.data.v, message: unsupportedVersionMessage(envelope.data.v) }
  }
  const parsed = RunEvent.safeParse(raw)
  if (parsed.success) return { kind: 'event', event: parsed.data }
  const known = RunEvent.options.some((o) => o.shape.type.value === envelope.data.type)
  if (!known) return { kind: 'unknown_type', type: envelope.data.type, seq: envelope.data.seq ?? null }
  const issue = parsed.error.issues[0]
  return { kind: 'invalid', message: `Malformed ${envelope.data.type} event: ${issue.path.join('.')} ${issue.message}` }
}

// ---- CLI answers ---------------------------------------------------------------------------

export const CliError = z.object({ error: z.object({ code: z.string(), message: z.string() }) })

// pid: the supervisor's; null for a SLURM run (SLURM runs its games; array_job_id says which array).
export const StartResult = z.object({ run_id: RunId, pid: z.number().int().nullable(), resumed: z.boolean(), array_job_id: z.number().int().optional() })

export const RunRow = z.object({
  run_id: RunId,
  plan_name: z.string().nullable(),
  state: z.string().nullable(),
  started_ts: num.nullable(),
  supervisor_alive: z.boolean(),
})
/** A row that does not parse (a broken or hostile host) is left out; the other runs still count. */
export const RunsResult = z.object({ runs: z.array(RunRow.nullable().catch(null)).transform((rows) => rows.filter((r) => r !== null)) })

export const StopResult = z.object({ run_id: RunId, state: z.string(), supervisor_alive: z.boolean() })

export const ControlResult = z.object({ run_id: RunId, request: z.string(), supervisor_alive: z.boolean(), note: z.string().optional() })

export const GameStatus = z.object({
  game,
  backend: z.string().nullable(),
  state: z.string(),
  episodes: z.number().int(),
  target_episodes: z.number().int().nullable(),
  restarts: z.number().int(),
  mean_return: num.nullable(),
  global_step: z.number().int(),
  cause: FailureCause.nullable(),
  detail: z.string().nullable(),
  gpu: GpuIndex.nullable().optional(),
  /** trainer_args restart rules changed for this game (e.g. {num_envs: 128}). */
  overrides: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
})
export const StatusResult = z.object({
  run_id: RunId,
  state: z.string(),
  supervisor_alive: z.boolean(),
  plan_name: z.string().nullable(),
  slots: z.number().int().nullable(),
  started_ts: num.nullable(),
  last_seq: z.number().int(),
  games: z.array(GameStatus),
})

// ---- plans ---------------------------------------------------------------------------------
// The same rules as remote/gantry_remote/plan.py (PROTOCOL.md "Plan"); objects are strict so a
// misspelt field is an error, and no field can choose the program the host runs.

/** Flags the supervisor passes to every trainer; a plan's trainer_args may not set or negate them. */
export const SUPERVISOR_FLAGS = ['run_dir', 'game', 'backend', 'target_episodes', 'resume'] as const
const ownedArgs = new Set<string>(SUPERVISOR_FLAGS.flatMap((f) => [f, `no_${f}`]))
export const MAX_PLAN_GAMES = 256

const TrainerArgValue = z.union([z.string(), z.number(), z.boolean(), z.null()])
const TrainerArgKey = z
  .string()
  .regex(/^[A-Za-z0-9_]{1,64}$/, 'Trainer argument names use 1-64 letters, digits or "_".')
  .refine((key) => !ownedArgs.has(key), `The supervisor sets ${SUPERVISOR_FLAGS.join(', ')} itself; remove them from trainer_args.`)
export const PlanGame = z.strictObject({
  game: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/, 'Game names use 1-64 letters, digits, "_" or "-", and do not start with "-".'),
  /** The environment, when it differs from `game` (the same game twice: another seed, other settings). */
  env: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/, 'An env is a game name: 1-64 letters, digits, "_" or "-".').optional(),
  /** Left out for an Atari game: the host's `start` picks ale-py (or EnvPool when asked) and records it. */
  backend: z.enum(['envpool', 'ale', 'builtin']).optional(),
  target_episodes: z.number().int().positive(),
  est_hours: z.number().nonnegative().optional(),
  trainer_args: z.record(TrainerArgKey, TrainerArgValue).optional(),
})
/** The plan's SLURM block (remote/gantry_remote/slurm_batch.py validates it again on the host). */
export const SlurmScheduler = z.strictObject({
  kind: z.literal('slurm'),
  partition: z.string().max(128).nullable().optional(),
  account: z.string().max(128).nullable().optional(),
  qos: z.string().max(128).nullable().optional(),
  time_limit_min: z.number().int().min(1).nullable().optional(),
  gres: z.string().max(128).nullable().optional(),
  cpus_per_task: z.number().int().min(1).nullable().optional(),
  mem_mb: z.number().int().min(1).nullable().optional(),
  extra_sbatch: z.array(z.string().max(512)).max(32).optional(),
})
export type SlurmScheduler = z.infer<typeof SlurmScheduler>

/** The causes the local supervisor has restart rules for. */
export const RESTART_CAUSES = ['crash', 'oom', 'nan', 'cuda', 'signal', 'frozen', 'other'] as const
const factor = z.number().gt(0, 'A factor is between 0 and 1, e.g. 0.5.').lt(1, 'A factor is between 0 and 1, e.g. 0.5.')
export const RestartRule = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('restart') }),
  z.strictObject({ action: z.literal('fewer_envs'), factor: factor.optional(), min_envs: z.number().int().min(1).optional() }),
  z.strictObject({ action: z.literal('lower_lr'), factor: factor.optional(), min_lr: z.number().positive().optional() }),
  z.strictObject({ action: z.literal('pause') }),
  z.strictObject({ action: z.literal('fail') }),
])
export const Plan = z.strictObject({
  name: z.string().min(1).max(200),
  slots: z.number().int().min(1).max(256),
  games: z.array(PlanGame).min(1).max(MAX_PLAN_GAMES, `A plan may have at most ${MAX_PLAN_GAMES} games; split it into several runs.`),
  restart: z.strictObject({ max_restarts: z.number().int().nonnegative(), backoff_s: z.array(z.number().nonnegative()).min(1) }).optional(),
  heartbeat_timeout_s: z.number().positive().optional(),
  gpu_sample_s: z.number().positive().optional(),
  /** Which GPUs the run uses ("all" by default); `slots` trainers run on each of them. */
  gpus: z.union([z.literal('all'), z.array(z.number().int().min(0).max(63)).min(1).max(64).refine((l) => new Set(l).size === l.length, 'List each GPU once.')]).optional(),
  /** "auto": trainers sharing a GPU run side by side under CUDA MPS where the host allows it. */
  mps: z.enum(['auto', 'off']).optional(),
  /** Absent: the supervisor on the host. Set by the app from a SLURM cluster instance's settings. */
  scheduler: SlurmScheduler.optional(),
  /** What the supervisor does per cause of a trainer's end (PROTOCOL.md "Restart rules"); absent causes keep the defaults. */
  restart_rules: z.partialRecord(z.enum(RESTART_CAUSES), RestartRule).optional(),
  /** Enforced by the supervisor: warn early when the projection passes the limit; at the limit stop cleanly or only warn. */
  budget: z
    .strictObject({
      limit: z.number().positive().max(1e9),
      unit: z.enum(['usd', 'hours']),
      /** usd only: the instance's price; the desktop fills it in at launch. */
      price_per_hour: z.number().nonnegative().max(10_000).optional(),
      on_limit: z.enum(['stop', 'warn']).optional(),
    })
    .optional(),
})
export type Plan = z.infer<typeof Plan>
