/**
 * The real thing: the gantry_remote supervisor runs fake trainers under a temp root, and the
 * attach stream (a real `attach --follow` child process) is killed repeatedly mid-run. The
 * events delivered must be exactly seq 1..N of the journal file: no gap, no duplicate.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { StreamState } from '../../../shared/api/runs'
import type { RunEvent } from '../../../shared/remoteProtocol'
import { startJournalAttach } from './journalAttach'
import { startRun } from './supervisorControl'
import { createLocalRig, fakePlan, havePython, type LocalRig } from '../../../../test/support/localRig'

describe.skipIf(!havePython())('journal attach over a real supervisor', () => {
  let rig: LocalRig
  beforeAll(() => {
    process.env.GANTRY_PROGRESS_INTERVAL_S = '0.2'
    process.env.GANTRY_ATTACH_HEARTBEAT_S = '0.5'
    rig = createLocalRig()
  })
  afterAll(() => rig.cleanup())

  it('re-attaches after kills with no gap and no duplicate, and ends with the run', async () => {
    const runId = await startRun(rig.session, fakePlan([{ game: 'breakout', target: 120, eps: 40 }, { game: 'freeway', target: 80, eps: 40 }]))
    const delivered: RunEvent[] = []
    const states: StreamState[] = []
    const attach = startJournalAttach({
      instanceId: 'local',
      runId,
      acquire: async () => Object.assign(Object.create(rig.session), { release() {} }),
      onEvents: (events) => delivered.push(...events),
      onState: (s) => states.push(s),
    })
    try {
      for (let kill = 0; kill < 3; kill++) {
        const before = delivered.length
        await expect.poll(() => delivered.length, { timeout: 20_000 }).toBeGreaterThan(before)
        attach.dropConnection()
      }
      await expect.poll(() => attach.state().status, { timeout: 60_000, interval: 200 }).toBe('ended')
    } finally {
      attach.stop()
    }
    const journal = readFileSync(path.join(rig.root, 'runs', runId, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as RunEvent)
    expect(delivered.map((e) => e.seq)).toEqual(journal.map((e) => e.seq))
    expect(delivered.map((e) => e.seq)).toEqual(Array.from({ length: journal.length }, (_, i) => i + 1))
    expect(delivered.at(-1)?.type).toBe('run_completed')
    expect(states.filter((s) => s.status === 'reconnecting').length).toBeGreaterThanOrEqual(3)
    expect(attach.state().reattaches).toBeGreaterThanOrEqual(3)
  }, 90_000)
})

describe.skipIf(!havePython())('journal attach: silence and version mismatch', () => {
  let rig: LocalRig
  beforeAll(() => {
    rig = createLocalRig()
  })
  afterAll(() => rig.cleanup())

  /** The local session, but `spawn` runs `argv` instead of the attach command (a host that misbehaves). */
  const hostRunning = (argv: string[]) => async () => Object.assign(Object.create(rig.session), { release() {}, spawn: () => rig.session.spawn(argv) })

  it('marks a silent stream stale, says since when, and re-attaches', async () => {
    const states: StreamState[] = []
    const attach = startJournalAttach({ instanceId: 'local', runId: 'r1', acquire: hostRunning(['sleep', '30']), onEvents: () => {}, onState: (s) => states.push(s), staleAfterMs: 900 })
    try {
      await expect.poll(() => states.find((s) => s.status === 'stale')?.message ?? '', { timeout: 10_000 }).toMatch(/No word from the host since/)
      await expect.poll(() => attach.state().reattaches, { timeout: 10_000 }).toBeGreaterThanOrEqual(1)
    } finally {
      attach.stop()
    }
  })

  it('stops with an "update the app" message when the host speaks a newer protocol', async () => {
    const line = JSON.stringify({ v: 2, type: 'progress', ts: 1, run: 'r1', seq: 1 })
    const attach = startJournalAttach({ instanceId: 'local', runId: 'r1', acquire: hostRunning(['sh', '-c', `echo '${line}'; exec sleep 30`]), onEvents: () => {}, onState: () => {} })
    try {
      await expect.poll(() => attach.state().status, { timeout: 10_000 }).toBe('failed')
      expect(attach.state().message).toMatch(/newer Gantry remote protocol \(v2\).*Update the Gantry app/)
    } finally {
      attach.stop()
    }
  })
})
