// TypeScript ports of the built-in games (remote/gantry_remote/envs), one env each, so the app
// can play a trained model on this computer. Each port reproduces the Python env of the same
// seed and env index bit for bit: observations, rewards, episode ends, sticky actions and the
// counter-based random numbers (checked step for step against recorded Python traces in
// test/builtinGamePorts.test.ts; remote/tests/test_game_traces.py keeps those traces in step
// with the Python).
//
// Beyond the shape the Watch player was promised, and only additive: `maxSteps` (the Python
// env's time limit, needed to reproduce its truncations), `actionNames()`, and `finalObs` on a
// step that ends an episode (the Python step returns only the next episode's first frame).
import { asterixRules } from './asterix'
import { breakoutRules } from './breakout'
import { envKeyFor } from './counterRandom'
import { EpisodeRunner, type GameStep } from './episodeRunner'
import { freewayRules } from './freeway'
import type { GameRules } from './gameRules'
import { seaquestRules } from './seaquest'
import { spaceInvadersRules } from './spaceInvaders'

export const BUILTIN_GAME_NAMES = ['breakout', 'asterix', 'freeway', 'seaquest', 'space_invaders'] as const
export type BuiltinGameName = (typeof BUILTIN_GAME_NAMES)[number]

export type { GameStep }

export interface BuiltinGame {
  readonly name: BuiltinGameName
  readonly channels: number
  readonly height: number
  readonly width: number
  readonly numActions: number
  /** Starts a new episode (step counter back to 0, as the Python env's reset()); returns its first observation, CHW, as the trainer feeds the model. */
  reset(): Float32Array
  /** One frame. Throws a RangeError for an action that is not an index into the game's action set. */
  step(action: number): GameStep
  /** Observation channel names, in channel order (for colouring the grid). */
  channelNames(): readonly string[]
  /** Action names, by action index ('noop', 'left', ...). */
  actionNames(): readonly string[]
}

export interface BuiltinGameOptions {
  /** The run's seed (the trainer's --seed). */
  seed: number
  /** Which env of the trainer's vector to reproduce (default 0). */
  envIndex?: number
  /** Probability of repeating the previous action (default 0.1, the trainer's default for built-in games). */
  stickyActions?: number
  /** Episode time limit in steps (default 10,000, the trainer's); reaching it ends the episode. */
  maxSteps?: number
}

// Each game's state type stays private to its file; the runner only passes states back to their own rules.
const RULES: Record<BuiltinGameName, GameRules<unknown>> = {
  breakout: breakoutRules,
  asterix: asterixRules,
  freeway: freewayRules,
  seaquest: seaquestRules,
  space_invaders: spaceInvadersRules,
}

export function isBuiltinGameName(name: string): name is BuiltinGameName {
  return (BUILTIN_GAME_NAMES as readonly string[]).includes(name)
}

/** The game the trainer runs as env `envIndex` of its vector for `seed`, ready to step (already reset). */
export function createBuiltinGame(name: BuiltinGameName, opts: BuiltinGameOptions): BuiltinGame {
  if (!isBuiltinGameName(name)) {
    throw new RangeError(`"${String(name)}" is not a built-in game; built-in games are: ${BUILTIN_GAME_NAMES.join(', ')}.`)
  }
  const rules = RULES[name]
  const stickyActions = opts.stickyActions ?? 0.1
  if (!(stickyActions >= 0 && stickyActions <= 1)) {
    throw new RangeError(`stickyActions is a probability between 0 and 1 (got ${stickyActions}).`)
  }
  const maxSteps = opts.maxSteps ?? 10_000
  if (!Number.isSafeInteger(maxSteps) || maxSteps < 1) {
    throw new RangeError(`maxSteps is a whole number of steps, at least 1 (got ${maxSteps}).`)
  }
  const runner = new EpisodeRunner(rules, { envKey: envKeyFor(opts.seed, opts.envIndex ?? 0), stickyActions, maxSteps })
  return {
    name,
    channels: runner.channels,
    height: runner.height,
    width: runner.width,
    numActions: runner.numActions,
    reset: () => runner.reset(),
    step: (action) => runner.step(action),
    channelNames: () => runner.channelNames(),
    actionNames: () => runner.actionNames(),
  }
}
