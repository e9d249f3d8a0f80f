// Runs a game's rules the way remote/gantry_remote/envs/base.py's BuiltinGame runs them for
// one env of its vector: sticky actions, the step counter that feeds the random numbers,
// episode length and the time limit, and the auto-reset (an episode that ends is replaced, in
// the same step, by a fresh one drawn from that step's reset streams).
import { RESET_STREAMS, STICKY_STREAM, StepDraws, TRANSITION_STREAMS } from './counterRandom'
import { ACTION_LETTER_NAMES, GRID, type GameRules } from './gameRules'

export interface GameStep {
  /** The observation after the step; when `done`, the new episode's first observation (as the trainer sees it). */
  obs: Float32Array
  reward: number
  /** The episode ended here: game over, or the time limit (`maxSteps`) reached. */
  done: boolean
  /** Only when `done`: the ended episode's last frame (the ball past the paddle, ...), for showing how it ended. */
  finalObs?: Float32Array
}

export interface RunnerOptions {
  envKey: number
  stickyActions: number
  maxSteps: number
}

export class EpisodeRunner<S> {
  readonly channels: number
  readonly height = GRID
  readonly width = GRID
  readonly numActions: number
  private state!: S
  private counter = 0
  private lastAction = 0
  private episodeLength = 0

  constructor(
    private readonly rules: GameRules<S>,
    private readonly options: RunnerOptions,
  ) {
    this.channels = rules.channels.length
    this.numActions = rules.actionCodes.length
    this.reset()
  }

  channelNames(): readonly string[] {
    return this.rules.channels
  }

  actionNames(): readonly string[] {
    return this.rules.actionCodes.map((code) => ACTION_LETTER_NAMES[code])
  }

  reset(): Float32Array {
    this.counter = 0
    const draws = StepDraws.forStep(this.options.envKey, -1) // a counter value steps never use
    this.state = this.rules.initialState(draws.streamsFrom(RESET_STREAMS))
    this.lastAction = 0
    this.episodeLength = 0
    return this.observe(this.state)
  }

  step(action: number): GameStep {
    if (!Number.isInteger(action) || action < 0 || action >= this.numActions) {
      throw new RangeError(
        `${this.rules.name} has actions 0-${this.numActions - 1} (${this.actionNames().join(', ')}); got ${String(action)}.`,
      )
    }
    const draws = StepDraws.forStep(this.options.envKey, this.counter)
    // Sticky actions (Machado et al. 2018, as in MinAtar): repeat the previous action.
    const sticky = draws.uniform(STICKY_STREAM) < Math.fround(this.options.stickyActions)
    const taken = sticky ? this.lastAction : action
    const next = this.rules.transition(this.state, this.rules.actionCodes[taken], draws.streamsFrom(TRANSITION_STREAMS))
    const length = this.episodeLength + 1
    const truncated = length >= this.options.maxSteps && !next.terminal
    const done = next.terminal || truncated
    this.counter = (this.counter + 1) | 0
    this.lastAction = done ? 0 : taken
    this.episodeLength = done ? 0 : length
    if (!done) {
      this.state = next.state
      return { obs: this.observe(this.state), reward: next.reward, done }
    }
    this.state = this.rules.initialState(draws.streamsFrom(RESET_STREAMS))
    return { obs: this.observe(this.state), reward: next.reward, done, finalObs: this.observe(next.state) }
  }

  private observe(state: S): Float32Array {
    const obs = new Float32Array(this.channels * GRID * GRID)
    this.rules.observe(state, obs)
    return obs
  }
}
