// Freeway, for one env, step for step as remote/gantry_remote/envs/freeway.py (MinAtar rules):
// the chicken (column 4) crosses eight lanes of wrapping traffic; reaching row 0 is +1 and
// re-draws every car's speed and direction; a car on its cell sends it back to row 9; the game
// ends after 2500 frames.
import type { StepDraws } from './counterRandom'
import { DOWN, GRID, NOOP, UP, setCell, type GameRules } from './gameRules'

const PLAYER_SPEED = 3
const TIME_LIMIT = 2500
const LANES = 8
const CHICKEN_X = 4

interface FreewayState {
  chickenY: number
  moveTimer: number
  timeLeft: number
  /** Per lane (row lane + 1). */
  carX: number[]
  carTimer: number[]
  /** Speed 1-5, negative for cars moving left; a car moves once every |velocity| + 1 frames. */
  carVelocity: number[]
}

/** Per lane: speed 1-5 from `stream`, direction from `stream + 1` (lane-wide draws). */
function randomVelocities(draws: StepDraws, stream: number): number[] {
  return Array.from({ length: LANES }, (_, lane) => {
    const speed = draws.randint(stream, 1, 6, lane)
    return draws.coin(stream + 1, 0.5, lane) ? -speed : speed
  })
}

export const freewayRules: GameRules<FreewayState> = {
  name: 'freeway',
  channels: ['chicken', 'car', 'speed1', 'speed2', 'speed3', 'speed4', 'speed5'],
  actionCodes: [NOOP, UP, DOWN],

  initialState(draws) {
    const velocity = randomVelocities(draws, 0)
    return {
      chickenY: GRID - 1,
      moveTimer: PLAYER_SPEED,
      timeLeft: TIME_LIMIT,
      carX: new Array<number>(LANES).fill(0),
      carTimer: velocity.map(Math.abs),
      carVelocity: velocity,
    }
  },

  transition(s, code, draws) {
    const mayMove = s.moveTimer === 0
    const up = code === UP && mayMove
    const down = code === DOWN && mayMove
    let y = s.chickenY
    if (up) y = Math.max(y - 1, 0)
    if (down) y = Math.min(y + 1, GRID - 1)
    const moveTimer = up || down ? PLAYER_SPEED : s.moveTimer

    const crossed = y === 0
    if (crossed) y = GRID - 1
    // Drawn every frame (the Python draws for every env), used only on a crossing.
    const redrawn = randomVelocities(draws, 0)
    const velocity = crossed ? redrawn : s.carVelocity
    const timerBefore = crossed ? redrawn.map(Math.abs) : s.carTimer

    // Only the car in the chicken's lane can hit it, before or after that car moves.
    const carX: number[] = []
    const carTimer: number[] = []
    let hit = false
    for (let lane = 0; lane < LANES; lane++) {
      const moves = timerBefore[lane] === 0
      const x = s.carX[lane]
      const movedX = (((x + (velocity[lane] > 0 ? 1 : -1)) % GRID) + GRID) % GRID
      const newX = moves ? movedX : x
      carX.push(newX)
      carTimer.push(moves ? Math.abs(velocity[lane]) : timerBefore[lane] - 1)
      if (lane + 1 === y && (x === CHICKEN_X || newX === CHICKEN_X)) hit = true
    }
    if (hit) y = GRID - 1

    const timeLeft = s.timeLeft - 1
    return {
      state: {
        chickenY: y,
        moveTimer: Math.max(moveTimer - 1, 0),
        timeLeft,
        carX,
        carTimer,
        carVelocity: velocity,
      },
      reward: crossed ? 1 : 0,
      terminal: timeLeft < 0,
    }
  },

  observe(s, obs) {
    setCell(obs, 0, s.chickenY, CHICKEN_X)
    for (let lane = 0; lane < LANES; lane++) {
      const row = lane + 1
      setCell(obs, 1, row, s.carX[lane])
      const velocity = s.carVelocity[lane]
      const backX = (((s.carX[lane] - (velocity > 0 ? 1 : -1)) % GRID) + GRID) % GRID
      const speed = Math.abs(velocity)
      if (speed >= 1 && speed <= 5) setCell(obs, 1 + speed, row, backX)
    }
  },
}
