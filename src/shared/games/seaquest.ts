// Seaquest, for one env, step for step as remote/gantry_remote/envs/seaquest.py (MinAtar rules,
// in that file's fixed-slot form): a two-cell submarine shoots fish and enemy subs (+1 each),
// subs shoot back, divers are picked up (at most 6), oxygen runs down below the surface, and
// surfacing with divers refills it (with all 6 it also pays oxygen * 10 / 200). The order of the
// slot loops below is the Python's: it decides which enemy a bullet hits and which diver fits.
import type { StepDraws } from './counterRandom'
import { DOWN, FIRE, GRID, LEFT, NOOP, RIGHT, UP, setCell, stepToward, type GameRules } from './gameRules'

const MAX_OXYGEN = 200
const INIT_SPAWN_SPEED = 20
const DIVER_SPAWN_SPEED = 30
const INIT_MOVE_INTERVAL = 5
const SHOT_COOL_DOWN = 5
const ENEMY_SHOT_INTERVAL = 10
const DIVER_MOVE_INTERVAL = 5
const MAX_DIVERS_ON_BOARD = 6

const ENEMY_SLOTS = 40
const DIVER_SLOTS = 4
const BULLET_SLOTS = 3

/** One kind of moving object in fixed slots; a slot holds an object when `present`. */
interface Slots {
  x: number[]
  y: number[]
  right: boolean[]
  present: boolean[]
}

interface SeaquestState {
  oxygen: number
  diversOnBoard: number
  subX: number
  subY: number
  subRight: boolean
  enemySpawnSpeed: number
  enemySpawnTimer: number
  diverSpawnTimer: number
  moveSpeed: number
  rampIndex: number
  shotTimer: number
  surfaced: boolean
  enemies: Slots & { isSub: boolean[]; moveTimer: number[]; shotTimer: number[] }
  divers: Slots & { moveTimer: number[] }
  friendlyBullets: Slots
  /** Slot i holds the bullet of enemy slot i. */
  enemyBullets: Slots
}

function emptySlots(k: number): Slots {
  return {
    x: new Array<number>(k).fill(0),
    y: new Array<number>(k).fill(0),
    right: new Array<boolean>(k).fill(false),
    present: new Array<boolean>(k).fill(false),
  }
}

function copySlots<T extends Slots>(slots: T): T {
  const copy = { ...slots }
  for (const key of Object.keys(copy) as (keyof T)[]) {
    const value = copy[key]
    if (Array.isArray(value)) copy[key] = [...value] as T[keyof T]
  }
  return copy
}

/** The lowest free slot, or -1 when every slot is taken (the spawn is then skipped). */
const firstFree = (present: boolean[]) => present.indexOf(false)
const outside = (x: number) => x < 0 || x > GRID - 1

export const seaquestRules: GameRules<SeaquestState> = {
  name: 'seaquest',
  channels: [
    'sub_front',
    'sub_back',
    'friendly_bullet',
    'trail',
    'enemy_bullet',
    'enemy_fish',
    'enemy_sub',
    'oxygen_gauge',
    'diver_gauge',
    'diver',
  ],
  actionCodes: [NOOP, LEFT, UP, RIGHT, DOWN, FIRE],

  initialState() {
    return {
      oxygen: MAX_OXYGEN,
      diversOnBoard: 0,
      subX: 5,
      subY: 0,
      subRight: false,
      enemySpawnSpeed: INIT_SPAWN_SPEED,
      enemySpawnTimer: INIT_SPAWN_SPEED,
      diverSpawnTimer: DIVER_SPAWN_SPEED,
      moveSpeed: INIT_MOVE_INTERVAL,
      rampIndex: 0,
      shotTimer: 0,
      surfaced: true,
      enemies: {
        ...emptySlots(ENEMY_SLOTS),
        isSub: new Array<boolean>(ENEMY_SLOTS).fill(false),
        moveTimer: new Array<number>(ENEMY_SLOTS).fill(0),
        shotTimer: new Array<number>(ENEMY_SLOTS).fill(0),
      },
      divers: { ...emptySlots(DIVER_SLOTS), moveTimer: new Array<number>(DIVER_SLOTS).fill(0) },
      friendlyBullets: emptySlots(BULLET_SLOTS),
      enemyBullets: emptySlots(ENEMY_SLOTS),
    }
  },

  transition(s, code, draws: StepDraws) {
    const enemies = copySlots(s.enemies)
    const divers = copySlots(s.divers)
    const bullets = copySlots(s.friendlyBullets)
    let reward = 0
    let terminal = false

    // -- spawns --------------------------------------------------------------------------
    const spawn = s.enemySpawnTimer === 0
    const fromLeft = draws.coin(0)
    const isSub = draws.coin(1, 1 / 3)
    const row = draws.randint(2, 1, 9)
    // No spawn into a row that holds an enemy heading the other way.
    const blocked = enemies.present.some((p, i) => p && enemies.y[i] === row && enemies.right[i] !== fromLeft)
    const enemySlot = firstFree(enemies.present)
    if (spawn && !blocked && enemySlot >= 0) {
      enemies.x[enemySlot] = fromLeft ? 0 : GRID - 1
      enemies.y[enemySlot] = row
      enemies.right[enemySlot] = fromLeft
      enemies.isSub[enemySlot] = isSub
      enemies.moveTimer[enemySlot] = s.moveSpeed
      enemies.shotTimer[enemySlot] = ENEMY_SHOT_INTERVAL
      enemies.present[enemySlot] = true
    }
    const enemySpawnTimer = spawn ? s.enemySpawnSpeed : s.enemySpawnTimer

    const spawnDiver = s.diverSpawnTimer === 0
    const diverFromLeft = draws.coin(3)
    const diverRow = draws.randint(4, 1, 9)
    const diverSlot = firstFree(divers.present)
    if (spawnDiver && diverSlot >= 0) {
      divers.x[diverSlot] = diverFromLeft ? 0 : GRID - 1
      divers.y[diverSlot] = diverRow
      divers.right[diverSlot] = diverFromLeft
      divers.moveTimer[diverSlot] = DIVER_MOVE_INTERVAL
      divers.present[diverSlot] = true
    }
    const diverSpawnTimer = spawnDiver ? DIVER_SPAWN_SPEED : s.diverSpawnTimer

    // -- player --------------------------------------------------------------------------
    let x = s.subX
    let y = s.subY
    let right = s.subRight
    const fire = code === FIRE && s.shotTimer === 0
    const bulletSlot = firstFree(bullets.present)
    if (fire && bulletSlot >= 0) {
      bullets.x[bulletSlot] = x
      bullets.y[bulletSlot] = y
      bullets.right[bulletSlot] = right
      bullets.present[bulletSlot] = true
    }
    const shotTimer = fire ? SHOT_COOL_DOWN : s.shotTimer
    if (code === LEFT) [right, x] = [false, Math.max(x - 1, 0)]
    if (code === RIGHT) [right, x] = [true, Math.min(x + 1, GRID - 1)]
    if (code === UP) y = Math.max(y - 1, 0)
    if (code === DOWN) y = Math.min(y + 1, GRID - 2)
    const atSub = (ox: number, oy: number) => ox === x && oy === y

    // -- friendly bullets: move, then each hits at most one enemy (fish before subs) ----
    const bx = bullets.x.map((bulletX, b) => stepToward(bulletX, bullets.right[b]))
    const by = bullets.y
    const bulletAlive = bullets.present.map((p, b) => p && !outside(bx[b]))
    const enemyAlive = [...enemies.present]
    for (let b = BULLET_SLOTS - 1; b >= 0; b--) {
      if (!bulletAlive[b]) continue
      const here = (i: number) => enemyAlive[i] && enemies.x[i] === bx[b] && enemies.y[i] === by[b]
      let victim = -1
      for (let i = 0; i < ENEMY_SLOTS && victim < 0; i++) if (here(i) && !enemies.isSub[i]) victim = i
      for (let i = 0; i < ENEMY_SLOTS && victim < 0; i++) if (here(i) && enemies.isSub[i]) victim = i
      if (victim >= 0) {
        enemyAlive[victim] = false
        bulletAlive[b] = false
        reward += 1
      }
    }

    // -- divers (in slot order from the last: the 6-diver cap depends on earlier pick-ups) -
    let carried = s.diversOnBoard
    for (let d = DIVER_SLOTS - 1; d >= 0; d--) {
      const alive = divers.present[d]
      const pickNow = alive && divers.x[d] === x && divers.y[d] === y && carried < MAX_DIVERS_ON_BOARD
      if (pickNow) carried += 1
      const swims = alive && !pickNow && divers.moveTimer[d] === 0
      const newX = swims ? stepToward(divers.x[d], divers.right[d]) : divers.x[d]
      const leaves = swims && outside(newX)
      const pickAfter = swims && !leaves && newX === x && divers.y[d] === y && carried < MAX_DIVERS_ON_BOARD
      if (pickAfter) carried += 1
      if (swims) divers.moveTimer[d] = DIVER_MOVE_INTERVAL
      else if (alive && !pickNow) divers.moveTimer[d] -= 1
      divers.x[d] = newX
      divers.present[d] = alive && !pickNow && !leaves && !pickAfter
    }

    // -- enemies: subs, then (after enemy bullets) fish ---------------------------------
    const advance = (kind: boolean[]) => {
      for (let i = 0; i < ENEMY_SLOTS; i++) if (kind[i] && atSub(enemies.x[i], enemies.y[i])) terminal = true
      const canBeShot = new Array<boolean>(ENEMY_SLOTS).fill(false)
      for (let i = 0; i < ENEMY_SLOTS; i++) {
        if (!kind[i]) continue
        if (enemies.moveTimer[i] !== 0) {
          enemies.moveTimer[i] -= 1
          continue
        }
        enemies.moveTimer[i] = s.moveSpeed
        enemies.x[i] = stepToward(enemies.x[i], enemies.right[i])
        if (outside(enemies.x[i])) {
          enemyAlive[i] = false
        } else if (atSub(enemies.x[i], enemies.y[i])) {
          terminal = true // rams the sub
        } else {
          canBeShot[i] = true
        }
      }
      for (let b = 0; b < BULLET_SLOTS; b++) {
        if (!bulletAlive[b]) continue
        const victim = canBeShot.findIndex((ok, i) => ok && enemyAlive[i] && enemies.x[i] === bx[b] && enemies.y[i] === by[b])
        if (victim >= 0) {
          enemyAlive[victim] = false
          bulletAlive[b] = false
          reward += 1
        }
      }
    }

    const subs = enemyAlive.map((alive, i) => alive && enemies.isSub[i])
    advance(subs)
    // Every sub that started the frame fires on schedule, even one shot or gone this frame.
    const enemyBullets = copySlots(s.enemyBullets)
    for (let i = 0; i < ENEMY_SLOTS; i++) {
      if (!subs[i]) continue
      if (enemies.shotTimer[i] === 0) {
        enemies.shotTimer[i] = ENEMY_SHOT_INTERVAL
        enemyBullets.x[i] = enemies.x[i]
        enemyBullets.y[i] = enemies.y[i]
        enemyBullets.right[i] = enemies.right[i]
        enemyBullets.present[i] = true
      } else {
        enemies.shotTimer[i] -= 1
      }
    }
    for (let i = 0; i < ENEMY_SLOTS; i++) {
      if (enemyBullets.present[i] && atSub(enemyBullets.x[i], enemyBullets.y[i])) terminal = true
    }
    for (let i = 0; i < ENEMY_SLOTS; i++) {
      if (!enemyBullets.present[i]) continue
      enemyBullets.x[i] = stepToward(enemyBullets.x[i], enemyBullets.right[i])
      if (outside(enemyBullets.x[i])) enemyBullets.present[i] = false
      else if (atSub(enemyBullets.x[i], enemyBullets.y[i])) terminal = true
    }
    advance(enemyAlive.map((alive, i) => alive && !enemies.isSub[i]))

    // -- timers, oxygen, surfacing -------------------------------------------------------
    if (s.oxygen < 0) terminal = true
    const submerged = y > 0
    let oxygen = submerged ? s.oxygen - 1 : s.oxygen
    const arrives = !submerged && !s.surfaced
    if (arrives && carried === 0) terminal = true
    const surfaces = arrives && carried !== 0
    let { enemySpawnSpeed, moveSpeed, rampIndex } = s
    if (surfaces) {
      // MinAtar empties a full crew and still subtracts one, leaving -1 (kept as published).
      if (carried === MAX_DIVERS_ON_BOARD) {
        reward += Math.floor((oxygen * 10) / MAX_OXYGEN)
        carried = 0
      }
      carried -= 1
      oxygen = MAX_OXYGEN
      if (enemySpawnSpeed > 1 || moveSpeed > 2) {
        if (moveSpeed > 2 && rampIndex % 2 === 1) moveSpeed -= 1
        if (enemySpawnSpeed > 1) enemySpawnSpeed -= 1
        rampIndex += 1
      }
    }

    return {
      state: {
        oxygen,
        diversOnBoard: carried,
        subX: x,
        subY: y,
        subRight: right,
        enemySpawnSpeed,
        enemySpawnTimer: Math.max(enemySpawnTimer - 1, 0),
        diverSpawnTimer: Math.max(diverSpawnTimer - 1, 0),
        moveSpeed,
        rampIndex,
        shotTimer: Math.max(shotTimer - 1, 0),
        surfaced: !submerged && (s.surfaced || surfaces),
        enemies: { ...enemies, present: enemyAlive },
        divers,
        friendlyBullets: { ...bullets, x: bx, present: bulletAlive },
        enemyBullets,
      },
      reward,
      terminal,
    }
  },

  observe(s, obs) {
    setCell(obs, 0, s.subY, s.subX)
    setCell(obs, 1, s.subY, stepToward(s.subX, !s.subRight))
    const e = s.enemies
    for (let i = 0; i < ENEMY_SLOTS; i++) {
      if (e.present[i]) {
        setCell(obs, 3, e.y[i], stepToward(e.x[i], !e.right[i]))
        setCell(obs, e.isSub[i] ? 6 : 5, e.y[i], e.x[i])
      }
      if (s.enemyBullets.present[i]) setCell(obs, 4, s.enemyBullets.y[i], s.enemyBullets.x[i])
    }
    for (let b = 0; b < BULLET_SLOTS; b++) {
      if (s.friendlyBullets.present[b]) setCell(obs, 2, s.friendlyBullets.y[b], s.friendlyBullets.x[b])
    }
    for (let d = 0; d < DIVER_SLOTS; d++) {
      if (!s.divers.present[d]) continue
      setCell(obs, 3, s.divers.y[d], stepToward(s.divers.x[d], !s.divers.right[d]))
      setCell(obs, 9, s.divers.y[d], s.divers.x[d])
    }
    const oxygenCells = Math.floor((Math.max(s.oxygen, 0) * 10) / MAX_OXYGEN)
    for (let col = 0; col < GRID; col++) {
      if (col < oxygenCells) setCell(obs, 7, GRID - 1, col)
      if (col >= GRID - 1 - s.diversOnBoard && col < GRID - 1) setCell(obs, 8, GRID - 1, col)
    }
  },
}
