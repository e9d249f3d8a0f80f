/**
 * The episode recording reader on a real recording made by the trainer's recorder, and on every
 * way such a file can be damaged or hostile: each is refused with a sentence, nothing throws.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, requirePrerequisite } from '../../../../../test/support/prerequisites'
import { torchAvailable, VENV_PYTHON } from '../../../../../test/support/models/onnxFixtures'
import { MAX_RECORDING_FILE_BYTES, MAX_RECORDING_UNPACKED_BYTES, parseRecording } from './recording'

const MAKE = path.join(REPO_ROOT, 'test', 'support', 'models', 'make_episode_recording.py')

/** Rebuild a recording from a header object and a frame body (same layout as the trainer's). */
function build(header: unknown, body: Uint8Array, magic = 'GANTRYEP'): Buffer {
  const head = Buffer.from(JSON.stringify(header))
  const length = Buffer.alloc(4)
  length.writeUInt32LE(head.length)
  return gzipSync(Buffer.concat([Buffer.from(magic, 'latin1'), length, head, body]))
}

describe.skipIf(!requirePrerequisite(torchAvailable(), 'Python venv with torch', 'create .venv with `pip install torch onnx numpy` (see .ci/run)'))('episode recording reader', () => {
  let dir: string
  let file: Buffer
  let header: Record<string, unknown>
  let body: Buffer
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-recording-'))
    const out = path.join(dir, 'breakout-4096.onnx.episode.gz')
    const r = spawnSync(VENV_PYTHON, [MAKE, out, '--steps', '40'], { encoding: 'utf8' })
    if (r.status !== 0) throw new Error(`make_episode_recording.py failed: ${r.stderr}`)
    file = readFileSync(out)
    const raw = gunzipSync(file)
    const length = raw.readUInt32LE(8)
    header = JSON.parse(raw.subarray(12, 12 + length).toString('utf8')) as Record<string, unknown>
    body = raw.subarray(12 + length)
  }, 60_000)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("reads the trainer's recording: header, actions, rewards and one frame per step", () => {
    const result = parseRecording(file)
    if (!result.ok) throw new Error(result.reason)
    const { header: h, frameBytes, frames } = result.recording
    expect(h).toMatchObject({ v: 1, game: 'breakout', kind: 'grid', channels: 4, height: 10, width: 10, channel_names: ['paddle', 'ball', 'trail', 'brick'], action_names: ['noop', 'left', 'right'] })
    expect(h.steps).toBeGreaterThan(0)
    expect(h.steps).toBeLessThanOrEqual(40)
    expect(frameBytes).toBe(50) // 4 × 10 × 10 bits
    expect(frames.length).toBe(h.steps * 50)
    expect(h.actions).toHaveLength(h.steps)
    // The first frame has the full wall of bricks: rows 1-3 of the brick channel (3 × 10 cells set).
    const bit = (i: number) => (frames[i >> 3] >> (7 - (i & 7))) & 1
    let bricks = 0
    for (let i = 300; i < 400; i++) bricks += bit(i)
    expect(bricks).toBe(30)
  })

  it('refuses a truncated file', () => {
    const result = parseRecording(file.subarray(0, Math.floor(file.length / 2)))
    expect(result).toEqual({ ok: false, reason: 'the compressed data ends early (the file is truncated)' })
  })

  it('refuses a file that is not gzip, or lacks the episode header', () => {
    expect(parseRecording(Buffer.from('{"v": 1}')).ok).toBe(false)
    expect(parseRecording(Buffer.from('{"v": 1}'))).toMatchObject({ reason: expect.stringMatching(/^it is not gzip data/) })
    expect(parseRecording(build(header, body, 'NOTANEPI'))).toEqual({ ok: false, reason: 'it does not start with a Gantry episode header' })
    expect(parseRecording(gzipSync(Buffer.alloc(3)))).toEqual({ ok: false, reason: 'it does not start with a Gantry episode header' })
  })

  it('refuses frames that do not match the header', () => {
    const short = parseRecording(build(header, body.subarray(0, body.length - 1)))
    expect(short).toEqual({ ok: false, reason: `it holds ${body.length - 1} bytes of frames, but ${header.steps} steps of 10×10×4 cells need ${body.length}` })
    const wrongSize = parseRecording(build({ ...header, height: 12 }, body))
    expect(wrongSize.ok).toBe(false)
    expect(!wrongSize.ok && wrongSize.reason).toMatch(/bytes of frames, but .* steps of 12×10×4 cells need/)
    const extra = parseRecording(build(header, Buffer.concat([body, Buffer.alloc(50)])))
    expect(extra.ok).toBe(false)
  })

  it('refuses a header that disagrees with itself or breaks the caps', () => {
    const steps = header.steps as number
    expect(parseRecording(build({ ...header, actions: (header.actions as number[]).slice(1) }, body))).toEqual({ ok: false, reason: `its header says ${steps} steps but lists ${steps - 1} actions and ${steps} rewards` })
    expect(parseRecording(build({ ...header, actions: [7, ...(header.actions as number[]).slice(1)] }, body))).toEqual({ ok: false, reason: 'action 7 at step 0 is not one of the 3 actions it names' })
    expect(parseRecording(build({ ...header, steps: 5000 }, body))).toMatchObject({ ok: false, reason: expect.stringMatching(/^its header is malformed \(steps: /) })
    expect(parseRecording(build({ ...header, width: 100_000 }, body))).toMatchObject({ ok: false, reason: expect.stringMatching(/^its header is malformed \(width: /) })
    expect(parseRecording(build({ ...header, rewards: [null, ...(header.rewards as number[]).slice(1)] }, body))).toMatchObject({ ok: false, reason: expect.stringMatching(/^its header is malformed \(rewards\.0: /) })
    expect(parseRecording(build({ ...header, kind: 'grey' }, body))).toEqual({ ok: false, reason: 'a grey recording has 1 channel, this one says 4' })
    expect(parseRecording(build({ ...header, channel_names: ['paddle'] }, body))).toEqual({ ok: false, reason: 'it names 1 channels but says it has 4' })
    expect(parseRecording(build({ ...header, v: 2 }, body))).toEqual({ ok: false, reason: 'it is format version 2; this Gantry reads version 1 (update Gantry to replay it)' })
  })

  it('refuses a header length that runs past the file or over the cap', () => {
    const raw = Buffer.from(gunzipSync(file))
    const past = Buffer.from(raw)
    past.writeUInt32LE(raw.length, 8)
    expect(parseRecording(gzipSync(past))).toEqual({ ok: false, reason: `its header claims ${raw.length} bytes but the file ends before that` })
    const huge = Buffer.from(raw)
    huge.writeUInt32LE(0xffffffff, 8)
    expect(parseRecording(gzipSync(huge))).toMatchObject({ ok: false, reason: expect.stringMatching(/^its header claims 4294967295 bytes, more than the 256 KiB allowed/) })
    const notJson = Buffer.from(raw)
    notJson[12] = 0xff
    expect(parseRecording(gzipSync(notJson))).toEqual({ ok: false, reason: 'its header is not JSON' })
  })

  it('does not unpack a gzip bomb past the cap, nor read an oversized file', () => {
    const bomb = gzipSync(Buffer.alloc(MAX_RECORDING_UNPACKED_BYTES + 1024))
    expect(bomb.length).toBeLessThan(MAX_RECORDING_FILE_BYTES)
    expect(parseRecording(bomb)).toEqual({ ok: false, reason: 'it unpacks to more than the 64 MiB a recording can be' })
    expect(parseRecording(new Uint8Array(MAX_RECORDING_FILE_BYTES + 1))).toEqual({ ok: false, reason: `it is ${MAX_RECORDING_FILE_BYTES + 1} bytes, more than the 16 MiB a recording can be` })
  })
})
