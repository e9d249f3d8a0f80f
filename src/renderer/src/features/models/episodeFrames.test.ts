// A watched frame's pixels: built-in grids coloured by channel (a later channel paints over an
// earlier one, as the trainer's render()), Atari frames grey, the background dark.
import { describe, expect, it } from 'vitest'
import { CHANNEL_COLOURS, decodeBase64, paintFrame } from './episodeFrames'

const pixel = (rgba: Uint8ClampedArray, i: number) => Array.from(rgba.subarray(i * 4, i * 4 + 4))

describe('paintFrame', () => {
  it('colours a grid cell by the last channel set in it', () => {
    // 2 channels × 2 × 2 cells = 8 bits, one frame byte; frame 1 of two. Channel 0: cells 0, 1; channel 1: cell 1.
    const frames = new Uint8Array([0x00, 0b1100_0100])
    const rgba = new Uint8ClampedArray(2 * 2 * 4)
    paintFrame({ kind: 'grid', channels: 2, height: 2, width: 2, frameBytes: 1 }, frames, 1, rgba)
    expect(pixel(rgba, 0)).toEqual([...CHANNEL_COLOURS[0], 255])
    expect(pixel(rgba, 1)).toEqual([...CHANNEL_COLOURS[1], 255])
    expect(pixel(rgba, 2)).toEqual([17, 17, 17, 255])
    expect(pixel(rgba, 3)).toEqual([17, 17, 17, 255])
  })

  it('draws a grey frame as its byte values', () => {
    const frames = decodeBase64(btoa(String.fromCharCode(0, 128, 255, 7)))
    const rgba = new Uint8ClampedArray(2 * 2 * 4)
    paintFrame({ kind: 'grey', channels: 1, height: 2, width: 2, frameBytes: 4 }, frames, 0, rgba)
    expect([0, 1, 2, 3].map((i) => pixel(rgba, i))).toEqual([[0, 0, 0, 255], [128, 128, 128, 255], [255, 255, 255, 255], [7, 7, 7, 255]])
  })
})
