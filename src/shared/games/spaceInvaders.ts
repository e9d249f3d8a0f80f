// Space Invaders, for one env, step for step as remote/gantry_remote/envs/space_invaders.py
// (MinAtar rules): a cannon on the bottom row shoots up; a 4x6 block of aliens marches sideways
// and steps down at an edge; the alien nearest the cannon fires every 10 frames; each alien
// shot is +1; a cleared wave comes back a frame faster; an alien or alien bullet reaching the
// cannon, or aliens on the bottom row stepping down, end the game.
import { FIRE, GRID, LEFT, NOOP, RIGHT, type GameRules } from './gameRules'

const SHOT_COOL_DOWN = 5
const ENEMY_MOVE_INTERVAL = 12
const ENEMY_SHOT_INTERVAL = 10
const MIN_MOVE_INTERVAL = 6
const CELLS = GRID * GRID

/** A 10x10 grid of flags, row-major (index y * 10 + x). */
type Grid = Uint8Array

interface SpaceInvadersState {
  cannon: number
  aliens: Grid
  friendlyBullets: Grid
  enemyBullets: Grid
  /** -1 marching left, +1 marching right. */
  alienDir: number
  moveInterval: number
  moveTimer: number
  shotTimerAliens: number
  rampIndex: number
  shotTimer: number
}

function wave(): Grid {
  const aliens = new Uint8Array(CELLS)
  for (let y = 0; y < 4; y++) for (let x = 2; x < 8; x++) aliens[y * GRID + x] = 1
  return aliens
}

/** Every cell moved by (dy, dx) with wrap-around, as torch.roll. */
function roll(grid: Grid, dy: number, dx: number): Grid {
  const out = new Uint8Array(CELLS)
  for (let y = 0; y < GRID; y++) {
    for (let x = 0; x < GRID; x++) out[((y + dy + GRID) % GRID) * GRID + ((x + dx + GRID) % GRID)] = grid[y * GRID + x]
  }
  return out
}

/** Every row moved one up (or down); the vacated row is empty (no wrap). */
function shiftRows(grid: Grid, up: boolean): Grid {
  const out = new Uint8Array(CELLS)
  if (up) out.set(grid.subarray(GRID), 0)
  else out.set(grid.subarray(0, CELLS - GRID), GRID)
  return out
}

const rowHas = (grid: Grid, y: number, x: number) => grid[y * GRID + x] === 1
const anyInRow = (grid: Grid, y: number) => grid.subarray(y * GRID, (y + 1) * GRID).some((v) => v === 1)
const anyInColumn = (grid: Grid, x: number) => {
  for (let y = 0; y < GRID; y++) if (rowHas(grid, y, x)) return true
  return false
}
const count = (grid: Grid) => grid.reduce((sum, v) => sum + v, 0)

export const spaceInvadersRules: GameRules<SpaceInvadersState> = {
  name: 'space_invaders',
  channels: ['cannon', 'alien', 'alien_left', 'alien_right', 'friendly_bullet', 'enemy_bullet'],
  actionCodes: [NOOP, LEFT, RIGHT, FIRE],

  initialState() {
    return {
      cannon: 5,
      aliens: wave(),
      friendlyBullets: new Uint8Array(CELLS),
      enemyBullets: new Uint8Array(CELLS),
      alienDir: -1,
      moveInterval: ENEMY_MOVE_INTERVAL,
      moveTimer: ENEMY_MOVE_INTERVAL,
      shotTimerAliens: ENEMY_SHOT_INTERVAL,
      rampIndex: 0,
      shotTimer: 0,
    }
  },

  transition(s, code) {
    let pos = s.cannon
    const fire = code === FIRE && s.shotTimer === 0
    let friendly: Grid = new Uint8Array(s.friendlyBullets)
    if (fire) friendly[(GRID - 1) * GRID + pos] = 1
    const shotTimer = fire ? SHOT_COOL_DOWN : s.shotTimer
    if (code === LEFT) pos = Math.max(pos - 1, 0)
    if (code === RIGHT) pos = Math.min(pos + 1, GRID - 1)

    friendly = shiftRows(friendly, true)
    const enemy = shiftRows(s.enemyBullets, false)
    let terminal = rowHas(enemy, GRID - 1, pos)

    let aliens = s.aliens
    terminal ||= rowHas(aliens, GRID - 1, pos)
    const move = s.moveTimer === 0
    const moveTimer = move ? Math.min(count(aliens), s.moveInterval) : s.moveTimer
    let direction = s.alienDir
    const atEdge = (anyInColumn(aliens, 0) && direction < 0) || (anyInColumn(aliens, GRID - 1) && direction > 0)
    if (move && atEdge) {
      terminal ||= anyInRow(aliens, GRID - 1)
      direction = -direction
      aliens = roll(aliens, 1, 0)
    } else if (move) {
      aliens = roll(aliens, 0, direction > 0 ? 1 : -1)
    }
    if (move) terminal ||= rowHas(aliens, GRID - 1, pos)

    // The lowest alien of the occupied column nearest the cannon fires (ties: the left column).
    const shoot = s.shotTimerAliens === 0
    const shotTimerAliens = shoot ? ENEMY_SHOT_INTERVAL : s.shotTimerAliens
    let shooterCol = 0
    let bestKey = Infinity
    for (let x = 0; x < GRID; x++) {
      const key = anyInColumn(aliens, x) ? Math.abs(x - pos) * GRID + x : 10 * CELLS
      if (key < bestKey) {
        bestKey = key
        shooterCol = x
      }
    }
    let shooterRow = -1
    for (let y = 0; y < GRID; y++) if (rowHas(aliens, y, shooterCol)) shooterRow = y
    if (shoot && shooterRow >= 0) enemy[shooterRow * GRID + shooterCol] = 1

    aliens = new Uint8Array(aliens)
    let reward = 0
    for (let i = 0; i < CELLS; i++) {
      if (aliens[i] && friendly[i]) {
        reward += 1
        aliens[i] = 0
        friendly[i] = 0
      }
    }

    const cleared = count(aliens) === 0
    const ramps = cleared && s.moveInterval > MIN_MOVE_INTERVAL
    if (cleared) aliens = wave()

    return {
      state: {
        cannon: pos,
        aliens,
        friendlyBullets: friendly,
        enemyBullets: enemy,
        alienDir: direction,
        moveInterval: s.moveInterval - (ramps ? 1 : 0),
        moveTimer: moveTimer - 1,
        shotTimerAliens: shotTimerAliens - 1,
        rampIndex: s.rampIndex + (ramps ? 1 : 0),
        shotTimer: Math.max(shotTimer - 1, 0),
      },
      reward,
      terminal,
    }
  },

  observe(s, obs) {
    obs[(GRID - 1) * GRID + s.cannon] = 1
    const directionChannel = s.alienDir < 0 ? 2 : 3
    for (let i = 0; i < CELLS; i++) {
      if (s.aliens[i]) {
        obs[CELLS + i] = 1
        obs[directionChannel * CELLS + i] = 1
      }
      if (s.friendlyBullets[i]) obs[4 * CELLS + i] = 1
      if (s.enemyBullets[i]) obs[5 * CELLS + i] = 1
    }
  },
}
