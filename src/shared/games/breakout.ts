// Breakout, for one env, step for step as remote/gantry_remote/envs/breakout.py (MinAtar rules):
// a paddle on the bottom row bounces a diagonal ball; each brick is +1; three rows of bricks
// come back when the ball reaches the bottom row with none left; missing the ball ends the game.
import type { StepDraws } from './counterRandom'
import { GRID, LEFT, NOOP, RIGHT, clamp, setCell, type GameRules } from './gameRules'

/** Bricks are a 30-bit mask, bit (row - 1) * 10 + col for rows 1-3. */
const FULL_WALL = (1 << 30) - 1
const BALL_START_ROW = 3

// Ball directions: 0 up-left, 1 up-right, 2 down-right, 3 down-left.
interface BreakoutState {
  ballX: number
  ballY: number
  ballDir: number
  lastX: number
  lastY: number
  paddle: number
  bricks: number
  /** The ball broke a brick last frame, so it passes through a brick it lands on now. */
  strike: boolean
}

function brickBit(y: number, x: number): number {
  return clamp((y - 1) * GRID + x, 0, 29)
}

export const breakoutRules: GameRules<BreakoutState> = {
  name: 'breakout',
  channels: ['paddle', 'ball', 'trail', 'brick'],
  actionCodes: [NOOP, LEFT, RIGHT],

  initialState(draws: StepDraws): BreakoutState {
    // MinAtar: start at (3, 0) heading down-right or at (3, 9) heading down-left.
    const fromRight = draws.coin(0)
    const ballX = fromRight ? 9 : 0
    return {
      ballX,
      ballY: BALL_START_ROW,
      ballDir: fromRight ? 3 : 2,
      lastX: ballX,
      lastY: BALL_START_ROW,
      paddle: 4,
      bricks: FULL_WALL,
      strike: false,
    }
  },

  transition(s, code) {
    let paddle = s.paddle
    if (code === LEFT) paddle = Math.max(paddle - 1, 0)
    if (code === RIGHT) paddle = Math.min(paddle + 1, GRID - 1)

    let direction = s.ballDir
    const movingRight = direction === 1 || direction === 2
    const movingUp = direction <= 1
    let newX = s.ballX + (movingRight ? 1 : -1)
    let newY = s.ballY + (movingUp ? -1 : 1)

    // Side walls reflect horizontally (0<->1, 2<->3).
    if (newX < 0 || newX > GRID - 1) {
      newX = clamp(newX, 0, GRID - 1)
      direction ^= 1
    }

    // Then exactly one of: ceiling, brick, bottom row (MinAtar's if/elif chain).
    const ceiling = newY < 0
    if (ceiling) {
      newY = 0
      direction = 3 - direction
    }
    let bricks = s.bricks
    const bit = brickBit(newY, newX)
    const brickHere = !ceiling && newY >= 1 && newY <= 3 && ((bricks >> bit) & 1) === 1
    const breaks = brickHere && !s.strike
    if (breaks) {
      bricks &= ~(1 << bit)
      newY = s.ballY
      direction = 3 - direction
    }

    let terminal = false
    if (!ceiling && !brickHere && newY === GRID - 1) {
      if (bricks === 0) bricks = FULL_WALL
      const squareHit = s.ballX === paddle // the ball came straight down onto the paddle
      const edgeHit = !squareHit && newX === paddle
      if (squareHit) direction = 3 - direction
      else if (edgeHit) direction ^= 2
      if (squareHit || edgeHit) newY = s.ballY
      terminal = !squareHit && !edgeHit
    }

    return {
      state: {
        ballX: newX,
        ballY: newY,
        ballDir: direction,
        lastX: s.ballX,
        lastY: s.ballY,
        paddle,
        bricks,
        strike: brickHere,
      },
      reward: breaks ? 1 : 0,
      terminal,
    }
  },

  observe(s, obs) {
    setCell(obs, 0, GRID - 1, s.paddle)
    setCell(obs, 1, s.ballY, s.ballX)
    setCell(obs, 2, s.lastY, s.lastX)
    for (let bit = 0; bit < 30; bit++) {
      if ((s.bricks >> bit) & 1) setCell(obs, 3, 1 + Math.floor(bit / GRID), bit % GRID)
    }
  },
}
