// The TypeScript ports of the built-in games replay the Python envs' recorded traces
// (remote/tests/fixtures/game_traces, written by remote/tests/record_game_traces.py) step for
// step: every observation bit, reward and episode end (and the last frame of each episode) must
// match exactly.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { BUILTIN_GAME_NAMES, createBuiltinGame, type BuiltinGame, type BuiltinGameName } from '../src/shared/games'

const TRACE_DIR = path.resolve(__dirname, '..', 'remote', 'tests', 'fixtures', 'game_traces')

const Trace = z.object({
  name: z.string(),
  seed: z.number().int(),
  env_index: z.number().int().min(0),
  sticky_p: z.number(),
  max_steps: z.number().int(),
  initial_obs: z.string(),
  ops: z.array(z.union([z.number().int(), z.literal('reset')])),
  obs: z.array(z.string()),
  reward: z.array(z.number()),
  terminated: z.array(z.boolean()),
  truncated: z.array(z.boolean()),
  final_obs: z.array(z.string().nullable()),
})
const Fixture = z.object({
  format: z.literal(1),
  game: z.enum(BUILTIN_GAME_NAMES),
  channels: z.array(z.string()),
  height: z.number(),
  width: z.number(),
  num_actions: z.number(),
  traces: z.array(Trace).min(1),
})

function loadFixture(game: BuiltinGameName): z.infer<typeof Fixture> {
  const bytes = gunzipSync(readFileSync(path.join(TRACE_DIR, `${game}.json.gz`)))
  return Fixture.parse(JSON.parse(bytes.toString('utf8')))
}

/** numpy.packbits order: value i is bit 7 - i % 8 of byte i / 8. */
function unpack(hex: string, length: number): Float32Array {
  const bytes = Buffer.from(hex, 'hex')
  const out = new Float32Array(length)
  for (let i = 0; i < length; i++) out[i] = (bytes[i >> 3] >> (7 - (i & 7))) & 1
  return out
}

/** The first cell where the port and Python differ, named so a failure says where to look. */
function firstDifference(game: BuiltinGame, actual: Float32Array, expected: Float32Array): string | null {
  if (actual.length !== expected.length) return `observation has ${actual.length} values, Python's ${expected.length}`
  const cells = game.height * game.width
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) {
      const channel = game.channelNames()[Math.floor(i / cells)]
      const y = Math.floor((i % cells) / game.width)
      return `channel ${channel} at row ${y}, col ${i % game.width}: port ${actual[i]}, Python ${expected[i]}`
    }
  }
  return null
}

describe.each(BUILTIN_GAME_NAMES)('%s port against the Python traces', (name) => {
  const fixture = loadFixture(name)

  it('has the Python game shape: channels, grid, actions', () => {
    const game = createBuiltinGame(name, { seed: 0 })
    expect([...game.channelNames()]).toEqual(fixture.channels)
    expect([game.channels, game.height, game.width, game.numActions]).toEqual([
      fixture.channels.length,
      fixture.height,
      fixture.width,
      fixture.num_actions,
    ])
  })

  it.each(fixture.traces.map((trace) => [trace.name, trace] as const))('replays trace "%s" step for step', (_, trace) => {
    const game = createBuiltinGame(name, {
      seed: trace.seed,
      envIndex: trace.env_index,
      stickyActions: trace.sticky_p,
      maxSteps: trace.max_steps,
    })
    const size = game.channels * game.height * game.width
    const initial = game.reset()
    expect(firstDifference(game, initial, unpack(trace.initial_obs, size)), 'initial observation').toBeNull()
    trace.ops.forEach((op, t) => {
      const where = `trace "${trace.name}", op ${t} (${op})`
      if (op === 'reset') {
        expect(firstDifference(game, game.reset(), unpack(trace.obs[t], size)), `${where}: observation`).toBeNull()
        return
      }
      const result = game.step(op)
      expect(firstDifference(game, result.obs, unpack(trace.obs[t], size)), `${where}: observation`).toBeNull()
      expect(result.reward, `${where}: reward`).toBe(trace.reward[t])
      expect(result.done, `${where}: done`).toBe(trace.terminated[t] || trace.truncated[t])
      const finalObs = trace.final_obs[t]
      if (finalObs === null) expect(result.finalObs, `${where}: no final frame`).toBeUndefined()
      else expect(firstDifference(game, result.finalObs ?? new Float32Array(), unpack(finalObs, size)), `${where}: final frame`).toBeNull()
    })
  })
})

describe('built-in game ports', () => {
  const playFor = (game: BuiltinGame, steps: number) => {
    const seen: number[][] = [Array.from(game.reset())]
    for (let t = 0; t < steps; t++) {
      const { obs, reward, done } = game.step(t % game.numActions)
      seen.push([...obs, reward, Number(done)])
    }
    return seen
  }

  it.each(BUILTIN_GAME_NAMES)('%s is deterministic for a seed and env index, and differs between env indices', (name) => {
    const a = playFor(createBuiltinGame(name, { seed: 7, envIndex: 2 }), 300)
    const b = playFor(createBuiltinGame(name, { seed: 7, envIndex: 2 }), 300)
    const other = playFor(createBuiltinGame(name, { seed: 7, envIndex: 3 }), 300)
    expect(b).toEqual(a)
    expect(other).not.toEqual(a)
  })

  it.each(BUILTIN_GAME_NAMES)('%s rejects an action outside its action set with a clear error', (name) => {
    const game = createBuiltinGame(name, { seed: 0 })
    for (const bad of [-1, game.numActions, 1.5, Number.NaN]) {
      expect(() => game.step(bad)).toThrow(new RegExp(`${name} has actions 0-${game.numActions - 1} \\(noop, .*\\); got ${bad}`))
    }
  })

  it('rejects unknown games and bad options with a sentence naming the valid values', () => {
    expect(() => createBuiltinGame('pong' as BuiltinGameName, { seed: 0 })).toThrow(/"pong" is not a built-in game; built-in games are: breakout, /)
    expect(() => createBuiltinGame('breakout', { seed: 0, stickyActions: 1.5 })).toThrow(/stickyActions is a probability between 0 and 1/)
    expect(() => createBuiltinGame('breakout', { seed: 0, maxSteps: 0 })).toThrow(/maxSteps is a whole number/)
    expect(() => createBuiltinGame('breakout', { seed: 0.5 })).toThrow(/seed must be a whole number/)
    expect(() => createBuiltinGame('breakout', { seed: 0, envIndex: -1 })).toThrow(/env index is a whole number/)
  })
})
