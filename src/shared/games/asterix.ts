// Asterix, for one env, step for step as remote/gantry_remote/envs/asterix.py (MinAtar rules):
// the player moves in four directions (rows 1-8); entities spawn at the left or right edge of
// one of eight lanes and cross; a third are gold (+1 when touched), the rest enemies (touching
// one ends the game). Every 100 frames spawning speeds up, and on every other ramp movement too.
import { DOWN, GRID, LEFT, NOOP, RIGHT, UP, setCell, stepToward, type GameRules } from './gameRules'

const RAMP_INTERVAL = 100
const INIT_SPAWN_SPEED = 10
const INIT_MOVE_INTERVAL = 5
const LANES = 8

interface AsterixState {
  playerX: number
  playerY: number
  /** Per lane (row lane + 1): at most one entity. */
  entX: number[]
  entPresent: boolean[]
  /** Moving right (spawned on the left edge). */
  entRight: boolean[]
  entGold: boolean[]
  spawnSpeed: number
  spawnTimer: number
  moveSpeed: number
  moveTimer: number
  rampTimer: number
  rampIndex: number
}

export const asterixRules: GameRules<AsterixState> = {
  name: 'asterix',
  channels: ['player', 'enemy', 'trail', 'gold'],
  actionCodes: [NOOP, LEFT, UP, RIGHT, DOWN],

  initialState() {
    return {
      playerX: 5,
      playerY: 5,
      entX: new Array<number>(LANES).fill(0),
      entPresent: new Array<boolean>(LANES).fill(false),
      entRight: new Array<boolean>(LANES).fill(false),
      entGold: new Array<boolean>(LANES).fill(false),
      spawnSpeed: INIT_SPAWN_SPEED,
      spawnTimer: INIT_SPAWN_SPEED,
      moveSpeed: INIT_MOVE_INTERVAL,
      moveTimer: INIT_MOVE_INTERVAL,
      rampTimer: RAMP_INTERVAL,
      rampIndex: 0,
    }
  },

  transition(s, code, draws) {
    const entX = [...s.entX]
    const present = [...s.entPresent]
    const right = [...s.entRight]
    const gold = [...s.entGold]

    // Spawn into a uniformly chosen free lane (nothing when all eight are taken): the free lane
    // with the highest draw, the first on a tie (torch.argmax); taken lanes score -1.
    const spawn = s.spawnTimer === 0
    const fromLeft = draws.coin(0)
    const isGold = draws.coin(1, 1 / 3)
    let chosen = 0
    let best = -Infinity
    for (let lane = 0; lane < LANES; lane++) {
      const score = present[lane] ? -1 : draws.uniform(2, lane)
      if (score > best) {
        best = score
        chosen = lane
      }
    }
    if (spawn && !present[chosen]) {
      entX[chosen] = fromLeft ? 0 : GRID - 1
      present[chosen] = true
      right[chosen] = fromLeft
      gold[chosen] = isGold
    }
    let spawnTimer = spawn ? s.spawnSpeed : s.spawnTimer

    let px = s.playerX
    if (code === LEFT) px = Math.max(px - 1, 0)
    if (code === RIGHT) px = Math.min(px + 1, GRID - 1)
    let py = s.playerY
    if (code === UP) py = Math.max(py - 1, 1)
    if (code === DOWN) py = Math.min(py + 1, LANES)

    // Contact before entities move, then again after (if they move this frame).
    let reward = 0
    let terminal = false
    for (let lane = 0; lane < LANES; lane++) {
      if (present[lane] && lane + 1 === py && entX[lane] === px) {
        if (gold[lane]) {
          reward += 1
          present[lane] = false
        } else {
          terminal = true
        }
      }
    }
    const move = s.moveTimer === 0
    if (move) {
      for (let lane = 0; lane < LANES; lane++) {
        if (!present[lane]) continue
        entX[lane] = stepToward(entX[lane], right[lane])
        if (entX[lane] < 0 || entX[lane] > GRID - 1) {
          present[lane] = false
        } else if (lane + 1 === py && entX[lane] === px) {
          if (gold[lane]) {
            reward += 1
            present[lane] = false
          } else {
            terminal = true
          }
        }
      }
    }
    const moveTimer = (move ? s.moveSpeed : s.moveTimer) - 1
    spawnTimer -= 1

    // Difficulty ramp: after each 100-frame interval (counted down to -1), speed things up.
    let { spawnSpeed, moveSpeed, rampTimer, rampIndex } = s
    const canRamp = spawnSpeed > 1 || moveSpeed > 1
    if (canRamp && rampTimer >= 0) {
      rampTimer -= 1
    } else if (canRamp) {
      if (moveSpeed > 1 && rampIndex % 2 === 1) moveSpeed -= 1
      if (spawnSpeed > 1) spawnSpeed -= 1
      rampIndex += 1
      rampTimer = RAMP_INTERVAL
    }

    return {
      state: {
        playerX: px,
        playerY: py,
        entX,
        entPresent: present,
        entRight: right,
        entGold: gold,
        spawnSpeed,
        spawnTimer,
        moveSpeed,
        moveTimer,
        rampTimer,
        rampIndex,
      },
      reward,
      terminal,
    }
  },

  observe(s, obs) {
    setCell(obs, 0, s.playerY, s.playerX)
    for (let lane = 0; lane < LANES; lane++) {
      if (!s.entPresent[lane]) continue
      const row = lane + 1
      setCell(obs, s.entGold[lane] ? 3 : 1, row, s.entX[lane])
      setCell(obs, 2, row, stepToward(s.entX[lane], !s.entRight[lane])) // an off-grid trail is not drawn
    }
  },
}
