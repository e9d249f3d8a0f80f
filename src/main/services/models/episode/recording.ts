/**
 * Reader of `<model>.episode.gz`, the evaluation episode a trainer records at each export
 * (format: remote/PROTOCOL.md "Episode recording"). The file came from the GPU host, so every
 * size, count and name is checked against the body and against caps before anything uses it;
 * a file that fails says what is wrong with it in words.
 */
import { gunzipSync } from 'node:zlib'
import { z } from 'zod'
import { MAX_EPISODE_STEPS } from '../../../../shared/api/models'

export const MAX_RECORDING_FILE_BYTES = 16 * 1024 * 1024
export const MAX_RECORDING_UNPACKED_BYTES = 64 * 1024 * 1024
const MAGIC = 'GANTRYEP'
const MAX_HEADER_BYTES = 256 * 1024
const MAX_SIDE = 256
const MAX_CHANNELS = 32

const Name = z.string().min(1).max(64)
const Header = z.object({
  v: z.number(),
  game: Name,
  backend: z.string().max(32),
  kind: z.enum(['grid', 'grey']),
  channels: z.number().int().min(1).max(MAX_CHANNELS),
  height: z.number().int().min(1).max(MAX_SIDE),
  width: z.number().int().min(1).max(MAX_SIDE),
  channel_names: z.array(Name).max(MAX_CHANNELS),
  action_names: z.array(Name).min(1).max(64),
  steps: z.number().int().min(0).max(MAX_EPISODE_STEPS),
  actions: z.array(z.number().int().nonnegative()).max(MAX_EPISODE_STEPS),
  rewards: z.array(z.number().finite()).max(MAX_EPISODE_STEPS),
  score: z.number().finite(),
  ended: z.enum(['game_over', 'truncated', 'max_steps', 'max_seconds']),
  policy: z.enum(['sample', 'argmax']),
  seed: z.number().int(),
  global_step: z.number().int().nonnegative(),
})
export type RecordingHeader = z.infer<typeof Header>

export interface Recording {
  header: RecordingHeader
  frameBytes: number
  /** `steps` frames of `frameBytes` each. */
  frames: Uint8Array
}

export type RecordingResult = { ok: true; recording: Recording } | { ok: false; reason: string }

export function frameBytesOf(kind: 'grid' | 'grey', channels: number, height: number, width: number): number {
  const cells = channels * height * width
  return kind === 'grid' ? Math.ceil(cells / 8) : cells
}

function unpack(file: Uint8Array): Buffer | string {
  if (file.length > MAX_RECORDING_FILE_BYTES) return `it is ${file.length} bytes, more than the ${MAX_RECORDING_FILE_BYTES / 1024 / 1024} MiB a recording can be`
  try {
    return gunzipSync(file, { maxOutputLength: MAX_RECORDING_UNPACKED_BYTES })
  } catch (error) {
    const e = error as NodeJS.ErrnoException
    if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) return `it unpacks to more than the ${MAX_RECORDING_UNPACKED_BYTES / 1024 / 1024} MiB a recording can be`
    if (/unexpected end/i.test(e.message)) return 'the compressed data ends early (the file is truncated)'
    return `it is not gzip data (${e.message})`
  }
}

/** Parse and check a recording's bytes. Nothing from the file is trusted until this says ok. */
export function parseRecording(file: Uint8Array): RecordingResult {
  const fail = (reason: string): RecordingResult => ({ ok: false, reason })
  const raw = unpack(file)
  if (typeof raw === 'string') return fail(raw)
  if (raw.length < MAGIC.length + 4 || raw.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) return fail('it does not start with a Gantry episode header')
  const headerLength = raw.readUInt32LE(MAGIC.length)
  if (headerLength > MAX_HEADER_BYTES) return fail(`its header claims ${headerLength} bytes, more than the ${MAX_HEADER_BYTES / 1024} KiB allowed`)
  const bodyStart = MAGIC.length + 4 + headerLength
  if (bodyStart > raw.length) return fail(`its header claims ${headerLength} bytes but the file ends before that`)
  let json: unknown
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw.subarray(MAGIC.length + 4, bodyStart)))
  } catch {
    return fail('its header is not JSON')
  }
  const version = (json as { v?: unknown } | null)?.v
  if (version !== 1) return fail(`it is format version ${JSON.stringify(version)}; this Gantry reads version 1 (update Gantry to replay it)`)
  const parsed = Header.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    return fail(`its header is malformed (${issue.path.join('.') || 'root'}: ${issue.message})`)
  }
  const h = parsed.data
  if (h.actions.length !== h.steps || h.rewards.length !== h.steps) {
    return fail(`its header says ${h.steps} steps but lists ${h.actions.length} actions and ${h.rewards.length} rewards`)
  }
  if (h.kind === 'grey' && h.channels !== 1) return fail(`a grey recording has 1 channel, this one says ${h.channels}`)
  if (h.kind === 'grid' && h.channel_names.length !== h.channels) return fail(`it names ${h.channel_names.length} channels but says it has ${h.channels}`)
  const badAction = h.actions.findIndex((a) => a >= h.action_names.length)
  if (badAction >= 0) return fail(`action ${h.actions[badAction]} at step ${badAction} is not one of the ${h.action_names.length} actions it names`)
  const frameBytes = frameBytesOf(h.kind, h.channels, h.height, h.width)
  const body = raw.length - bodyStart
  if (body !== h.steps * frameBytes) {
    return fail(`it holds ${body} bytes of frames, but ${h.steps} steps of ${h.height}×${h.width}${h.kind === 'grid' ? `×${h.channels} cells` : ' pixels'} need ${h.steps * frameBytes}`)
  }
  return { ok: true, recording: { header: h, frameBytes, frames: new Uint8Array(raw.buffer, raw.byteOffset + bodyStart, body) } }
}
