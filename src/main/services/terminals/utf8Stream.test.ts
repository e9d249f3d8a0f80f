import { describe, expect, it } from 'vitest'
import { createFlowControl, HIGH_WATER_CHARS, LOW_WATER_CHARS } from './flowControl'
import { createUtf8Stream, splitText } from './utf8Stream'

describe('UTF-8 safe chunking', () => {
  it('never splits a multibyte character across chunks, whatever the cut points', () => {
    const text = 'héllo ∑ 日本語 🚀 done\n'.repeat(20)
    const bytes = Buffer.from(text)
    for (const size of [1, 2, 3, 5, 7]) {
      const stream = createUtf8Stream()
      let out = ''
      for (let i = 0; i < bytes.length; i += size) {
        const piece = stream.write(bytes.subarray(i, i + size))
        expect(piece).not.toContain('\uFFFD')
        out += piece
      }
      out += stream.end()
      expect(out).toBe(text)
    }
  })

  it('cuts long text into messages without splitting a surrogate pair', () => {
    const text = '🚀'.repeat(10) + 'a'
    const pieces = splitText(text, 3)
    expect(pieces.join('')).toBe(text)
    for (const p of pieces) {
      expect(p.length).toBeLessThanOrEqual(3)
      expect(/[\uD800-\uDBFF]$/.test(p)).toBe(false)
    }
  })
})

describe('ack flow control', () => {
  it('pauses above the high-water mark and resumes only below the low-water mark', () => {
    const calls: string[] = []
    const flow = createFlowControl({ pause: () => calls.push('pause'), resume: () => calls.push('resume') })
    flow.sent(HIGH_WATER_CHARS - 40_000)
    expect(flow.paused).toBe(false)
    flow.sent(40_001) // one above the high-water mark
    expect(calls).toEqual(['pause'])
    flow.sent(50_000) // still paused; no second pause
    flow.acked(HIGH_WATER_CHARS + 50_001 - LOW_WATER_CHARS) // exactly at low water: still paused
    expect(flow.paused).toBe(true)
    flow.acked(1)
    expect(calls).toEqual(['pause', 'resume'])
    expect(flow.unacked).toBe(LOW_WATER_CHARS - 1)
  })

  it('cannot be driven below zero by over-acking', () => {
    const flow = createFlowControl({ pause() {}, resume() {} }, 10, 5)
    flow.acked(1_000_000)
    expect(flow.unacked).toBe(0)
    flow.sent(11)
    expect(flow.paused).toBe(true)
  })
})
