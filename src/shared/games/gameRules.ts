// What each built-in game supplies (its rules, for one env), mirroring the subclass contract
// of remote/gantry_remote/envs/base.py's BuiltinGame, and the grid helpers the rules share.
import type { StepDraws } from './counterRandom'

export const GRID = 10

/** MinAtar's full action alphabet; each game's minimal action set is a list of these codes. */
export const NOOP = 0
export const LEFT = 1
export const UP = 2
export const RIGHT = 3
export const DOWN = 4
export const FIRE = 5
export const ACTION_LETTER_NAMES = ['noop', 'left', 'up', 'right', 'down', 'fire'] as const

export interface Transition<S> {
  state: S
  reward: number
  terminal: boolean
}

export interface GameRules<S> {
  readonly name: string
  /** Observation channel names, in channel order. */
  readonly channels: readonly string[]
  /** MinAtar action codes forming the game's minimal action set (an action is an index into it). */
  readonly actionCodes: readonly number[]
  /** A fresh start state drawn from `draws` (already on the reset streams). */
  initialState(draws: StepDraws): S
  /** One frame; never writes into `state` (the runner keeps it when an episode restarts). */
  transition(state: S, code: number, draws: StepDraws): Transition<S>
  /** Sets the state's cells in `obs` (CHW, zero on entry). */
  observe(state: S, obs: Float32Array): void
}

/** Sets cell (y, x) of channel `channel`; a cell outside the grid is simply not drawn (base.py `cell_mask`). */
export function setCell(obs: Float32Array, channel: number, y: number, x: number): void {
  if (y >= 0 && y < GRID && x >= 0 && x < GRID) obs[channel * GRID * GRID + y * GRID + x] = 1
}

/** x + 1 when `right`, else x - 1 (base.py `step_toward`). */
export function stepToward(x: number, right: boolean): number {
  return right ? x + 1 : x - 1
}

export function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high)
}
