import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parseEventLine, PROTOCOL_VERSION } from '../src/shared/remoteProtocol'

const GOLDEN = path.resolve(__dirname, '..', 'remote', 'tests', 'fixtures', 'events.v1.jsonl')

describe('remote protocol v1', () => {
  const lines = readFileSync(GOLDEN, 'utf8').split('\n').filter(Boolean)

  it('parses every line of the golden fixture the supervisor engineer maintains', () => {
    const types = new Set<string>()
    for (const line of lines) {
      const parsed = parseEventLine(line)
      expect(parsed.kind, line).toBe('event')
      if (parsed.kind === 'event') types.add(parsed.event.type)
    }
    // Every event type of PROTOCOL.md appears in the fixture, so each schema was exercised.
    expect([...types].sort()).toEqual(
      ['checkpoint', 'game_completed', 'game_failed', 'game_paused', 'game_queued', 'game_restarting', 'game_resumed', 'game_started', 'game_stopped', 'gpu', 'gpu_unavailable', 'heartbeat', 'model_exported', 'progress', 'run_completed', 'run_started', 'slots_changed', 'supervisor_started'].sort(),
    )
  })

  it('keeps nulls the protocol allows and ignores unknown fields', () => {
    const progress = lines.map(parseEventLine).find((p) => p.kind === 'event' && p.event.type === 'progress' && p.event.mean_return === null)
    expect(progress).toBeDefined()
    const adopted = lines.map(parseEventLine).find((p) => p.kind === 'event' && p.event.type === 'supervisor_started' && p.event.adopted.length > 0)
    expect(adopted?.kind === 'event' && 'future_field' in adopted.event).toBe(false)
  })

  it('names a newer protocol version as an app update, not as garbage', () => {
    const parsed = parseEventLine(JSON.stringify({ v: PROTOCOL_VERSION + 1, type: 'progress', ts: 1, run: 'r', seq: 1 }))
    expect(parsed.kind).toBe('unsupported_version')
    if (parsed.kind === 'unsupported_version') expect(parsed.message).toMatch(/newer Gantry remote protocol.*Update the Gantry app/)
  })

  it('skips an unknown event type of the same version without failing the stream', () => {
    expect(parseEventLine(JSON.stringify({ v: 1, type: 'brand_new', ts: 1, run: 'r', seq: 7 }))).toEqual({ kind: 'unknown_type', type: 'brand_new', seq: 7 })
    expect(parseEventLine('{"v":1,"type":"progress","ts":1,"run":"r","seq":2,"game":"x"}').kind).toBe('invalid')
    expect(parseEventLine('not json').kind).toBe('invalid')
  })
})
