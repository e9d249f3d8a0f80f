// The built-in games' counter-based random numbers, bit for bit as
// remote/gantry_remote/envs/base.py draws them: every draw is hash(env key, step counter,
// stream id), computed in wrapping int32 arithmetic (Math.imul and `| 0` wrap exactly as torch
// int32 tensors do; `>>>` is the masked right shift base.py writes as `(x >> k) & mask`).

const MUL1 = 0x7feb352d
const MUL2 = 0x846ca68b | 0
const GOLDEN = 0x9e3779b9 | 0
const STEP_SALT = 0x632be5ab
const STREAM_MUL = 0x27d4eb2f
const LANE_MUL = 0x85ebca6b | 0

/** Stream ranges: the sticky-action draw, the game's transition and the game's reset never share a stream. */
export const STICKY_STREAM = 0
export const TRANSITION_STREAMS = 100
export const RESET_STREAMS = 200

/** Chris Wellons' lowbias32 integer hash on int32 values (base.py `mix32`). */
export function mix32(value: number): number {
  let x = value | 0
  x ^= x >>> 16
  x = Math.imul(x, MUL1)
  x ^= x >>> 15
  x = Math.imul(x, MUL2)
  x ^= x >>> 16
  return x | 0
}

/** The seed as base.py reduces it: its low 32 bits, read as a signed int32. */
function seedToInt32(seed: number): number {
  if (!Number.isSafeInteger(seed)) {
    throw new RangeError(`A built-in game's seed must be a whole number (got ${seed}).`)
  }
  return Number(BigInt.asIntN(32, BigInt(seed)))
}

/** The key of env `envIndex` in a vector made with `seed` (base.py `env_keys_for`); it does not depend on the vector's size. */
export function envKeyFor(seed: number, envIndex: number): number {
  if (!Number.isSafeInteger(envIndex) || envIndex < 0 || envIndex > 0x7fffffff) {
    throw new RangeError(`An env index is a whole number from 0 (got ${envIndex}).`)
  }
  const seedKey = mix32(seedToInt32(seed))
  return mix32((Math.imul(envIndex, GOLDEN) + seedKey) | 0)
}

/** The random numbers of one step of one env (base.py `Draws`); stream ids keep independent uses apart. */
export class StepDraws {
  private constructor(
    private readonly base: number,
    private readonly streamOffset: number,
  ) {}

  /** Draws for step `counter` of the env with key `envKey` (counter -1 is the one reset() uses). */
  static forStep(envKey: number, counter: number): StepDraws {
    return new StepDraws(mix32(envKey ^ mix32((Math.imul(counter, GOLDEN) + STEP_SALT) | 0)), 0)
  }

  /** The same step's randomness, seen through a disjoint range of stream ids (absolute, as in base.py). */
  streamsFrom(offset: number): StepDraws {
    return new StepDraws(this.base, offset)
  }

  /** 32 random bits (int32). `lane` picks one of the `width` lanes base.py draws side by side. */
  bits(stream: number, lane?: number): number {
    let h = this.base ^ Math.imul(this.streamOffset + stream, STREAM_MUL)
    if (lane !== undefined) h = (h + Math.imul(lane, LANE_MUL)) | 0
    return mix32(mix32(h))
  }

  /** A float32 in [0, 1) with 24 random bits (exact in a double too). */
  uniform(stream: number, lane?: number): number {
    return ((this.bits(stream, lane) >>> 8) & 0xffffff) / 16777216
  }

  /** An integer uniform in [low, high): the float32 product truncated, as torch's `.to(int32)` does. */
  randint(stream: number, low: number, high: number, lane?: number): number {
    const scaled = Math.trunc(Math.fround(this.uniform(stream, lane) * (high - low)))
    return Math.min(scaled, high - low - 1) + low
  }

  /** True with probability `pTrue`, compared in float32 as torch compares a float32 tensor with a Python float. */
  coin(stream: number, pTrue = 0.5, lane?: number): boolean {
    return this.uniform(stream, lane) < Math.fround(pTrue)
  }
}
