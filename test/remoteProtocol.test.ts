import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { methods } from '../src/shared/api/runs'
import { FAILURE_CAUSES, GameStatus, MAX_PLAN_GAMES, parseEventLine, Plan, PROTOCOL_VERSION } from '../src/shared/remoteProtocol'

const GOLDEN = path.resolve(__dirname, '..', 'remote', 'tests', 'fixtures', 'events.v1.jsonl')

describe('remote protocol v1', () => {
  const lines = readFileSync(GOLDEN, 'utf8').split('\n').filter(Boolean)

  it('parses every line of the golden fixture the supervisor engineer maintains', () => {
    const types = new Set<string>()
    for (const line of lines) {
      const parsed = parseEventLine(line)
      expect(parsed.kind, line).toBe('event')
      if (parsed.kind === 'event') types.add(parsed.event.type)
    }
    // Every event type of PROTOCOL.md appears in the fixture, so each schema was exercised.
    expect([...types].sort()).toEqual(
      ['budget', 'checkpoint', 'game_completed', 'game_failed', 'game_paused', 'game_queued', 'game_restarting', 'game_resumed', 'game_started', 'game_stopped', 'gpu', 'gpu_unavailable', 'heartbeat', 'model_exported', 'mps_unavailable', 'progress', 'run_completed', 'run_started', 'slots_changed', 'slurm_job', 'supervisor_started'].sort(),
    )
  })

  it('keeps nulls the protocol allows and ignores unknown fields', () => {
    const progress = lines.map(parseEventLine).find((p) => p.kind === 'event' && p.event.type === 'progress' && p.event.mean_return === null)
    expect(progress).toBeDefined()
    // The fixture line must carry an unknown field, or "ignored" below would prove nothing.
    const withUnknown = lines.find((line) => 'future_field' in JSON.parse(line))
    expect(withUnknown).toBeDefined()
    const adopted = parseEventLine(withUnknown!)
    expect(adopted.kind === 'event' && adopted.event.type === 'supervisor_started' && adopted.event.adopted.length > 0).toBe(true)
    expect(adopted.kind === 'event' && 'future_field' in adopted.event).toBe(false)
  })

  it('names a newer protocol version as an app update, not as garbage', () => {
    const parsed = parseEventLine(JSON.stringify({ v: PROTOCOL_VERSION + 1, type: 'progress', ts: 1, run: 'r', seq: 1 }))
    expect(parsed.kind).toBe('unsupported_version')
    if (parsed.kind === 'unsupported_version') expect(parsed.message).toMatch(/newer Gantry remote protocol.*Update the Gantry app/)
  })

  it('skips an unknown event type of the same version without failing the stream', () => {
    expect(parseEventLine(JSON.stringify({ v: 1, type: 'brand_new', ts: 1, run: 'r', seq: 7 }))).toEqual({ kind: 'unknown_type', type: 'brand_new', seq: 7 })
    expect(parseEventLine('{"v":1,"type":"progress","ts":1,"run":"r","seq":2,"game":"x"}').kind).toBe('invalid')
    expect(parseEventLine('not json').kind).toBe('invalid')
  })
})

describe('failure causes', () => {
  const failed = (cause: unknown) => JSON.stringify({ v: 1, type: 'game_failed', ts: 1, run: 'r', seq: 3, game: 'breakout', cause, detail: null })

  it('reads a cause this app does not know (a newer host) as other, and keeps the known ones', () => {
    for (const [cause, expected] of [['power_cut', 'other'], ['preempted', 'preempted'], ['', 'other'], [42, 'other'], ['oom', 'oom'], ['frozen', 'frozen']] as const) {
      const parsed = parseEventLine(failed(cause))
      expect(parsed.kind).toBe('event')
      if (parsed.kind === 'event' && parsed.event.type === 'game_failed') expect(parsed.event.cause).toBe(expected)
    }
    const status = GameStatus.parse({ game: 'breakout', backend: 'builtin', state: 'failed', episodes: 1, target_episodes: 5, restarts: 0, mean_return: null, global_step: 1, cause: 'gpu_fell_off_the_bus', detail: null })
    expect(status.cause).toBe('other')
    expect(FAILURE_CAUSES).toContain('other')
  })
})

describe('plans', () => {
  const game = { game: 'breakout', backend: 'builtin', target_episodes: 10 }
  const plan = { name: 'p', slots: 1, games: [game] }
  const launch = methods['runs.launch'].input

  it('accepts the shipped plan shape', () => {
    expect(Plan.safeParse({ ...plan, games: [{ ...game, est_hours: 1, trainer_args: { num_envs: 64, device: 'cpu', anneal_lr: true } }] }).success).toBe(true)
  })

  it('takes the GPUs to use and the MPS mode', () => {
    expect(Plan.safeParse({ ...plan, gpus: [1, 0], mps: 'off' }).success).toBe(true)
    expect(Plan.safeParse({ ...plan, gpus: 'all', mps: 'auto' }).success).toBe(true)
    expect(Plan.safeParse({ ...plan, restart_rules: { oom: { action: 'fewer_envs', factor: 0.25, min_envs: 16 }, cuda: { action: 'pause' }, crash: { action: 'fail' } } }).success).toBe(true)
  })

  it('keeps the trainer program out of the launch API', () => {
    const result = launch.safeParse({ instanceId: 'local', plan: { ...plan, trainer_command: ['/bin/sh', '-c', 'id'] } })
    expect(result.success).toBe(false)
  })

  it.each([
    ['a newline after the game name', { ...plan, games: [{ ...game, game: 'Pong\n' }] }],
    ['a game name that is a flag', { ...plan, games: [{ ...game, game: '--help' }] }],
    ['trainer_args that set run_dir', { ...plan, games: [{ ...game, trainer_args: { run_dir: '/tmp' } }] }],
    ['trainer_args that negate resume', { ...plan, games: [{ ...game, trainer_args: { no_resume: true } }] }],
    ['an infinite heartbeat timeout', { ...plan, heartbeat_timeout_s: Infinity }],
    ['a misspelt field', { ...plan, games: [{ ...game, target_episode: 5 }] }],
    ['a GPU listed twice', { ...plan, gpus: [0, 0] }],
    ['an unknown MPS mode', { ...plan, mps: 'on' }],
    ['a restart rule for an unknown cause', { ...plan, restart_rules: { gremlins: { action: 'restart' } } }],
    ['an unknown restart action', { ...plan, restart_rules: { oom: { action: 'reboot' } } }],
    ['a rule factor of 1 or more', { ...plan, restart_rules: { nan: { action: 'lower_lr', factor: 1 } } }],
    ['a setting the action does not take', { ...plan, restart_rules: { crash: { action: 'restart', factor: 0.5 } } }],
    ['too many games', { ...plan, games: Array.from({ length: MAX_PLAN_GAMES + 1 }, (_, i) => ({ ...game, game: `g${i}` })) }],
  ])('refuses %s', (_label, bad) => {
    expect(Plan.safeParse(bad).success).toBe(false)
  })
})
