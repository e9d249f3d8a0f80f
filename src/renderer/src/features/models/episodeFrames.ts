/**
 * Frames of a watched episode: base64 chunks into one buffer, and one frame into RGBA pixels
 * (built-in grids coloured by channel, Atari frames grey).
 */
import type { EpisodeInfo } from '../../../../shared/api/models'

/** One colour per channel, as the trainer's render() (remote/gantry_remote/envs/base.py); later channels paint over earlier ones. */
export const CHANNEL_COLOURS: ReadonlyArray<readonly [number, number, number]> = [
  [255, 214, 10],
  [230, 57, 70],
  [69, 123, 157],
  [168, 218, 220],
  [42, 157, 143],
  [244, 162, 97],
  [231, 111, 81],
  [131, 56, 236],
  [58, 134, 255],
  [255, 0, 110],
]
const BACKGROUND = [17, 17, 17] as const

type FrameShape = Pick<EpisodeInfo, 'kind' | 'channels' | 'height' | 'width' | 'frameBytes'>

export function decodeBase64(text: string): Uint8Array {
  const binary = atob(text)
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}

/** Paint frame `index` of `frames` into `rgba` (width × height × 4). */
export function paintFrame(shape: FrameShape, frames: Uint8Array, index: number, rgba: Uint8ClampedArray): void {
  const cells = shape.height * shape.width
  const base = index * shape.frameBytes
  for (let cell = 0; cell < cells; cell++) {
    let colour: readonly [number, number, number] = BACKGROUND
    if (shape.kind === 'grey') {
      const v = frames[base + cell]
      colour = [v, v, v]
    } else {
      for (let c = 0; c < shape.channels; c++) {
        const bit = c * cells + cell
        if ((frames[base + (bit >> 3)] >> (7 - (bit & 7))) & 1) colour = CHANNEL_COLOURS[c % CHANNEL_COLOURS.length]
      }
    }
    rgba[cell * 4] = colour[0]
    rgba[cell * 4 + 1] = colour[1]
    rgba[cell * 4 + 2] = colour[2]
    rgba[cell * 4 + 3] = 255
  }
}
