/**
 * The runs service follows live runs on its own: a run started outside it (another window, the
 * CLI, before an app restart) delivers its events on the bus once the instance's runs are
 * listed, with no renderer watching it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CallContext } from '../../../shared/contract'
import type { RunEvent } from '../../../shared/remoteProtocol'
import { createEventBus } from '../eventBus'
import { createHostRegistry } from '../host/hostRegistry'
import { createRunsService } from './runsService'
import { startRun, stopRun } from './supervisorControl'
import { createLocalRig, fakePlan, havePython, type LocalRig } from '../../../../test/support/localRig'

const ctx: CallContext = { connectionId: 'test', transport: 'ipc', signal: new AbortController().signal }

describe.skipIf(!havePython())('runs service', () => {
  let rig: LocalRig
  beforeAll(() => {
    rig = createLocalRig()
  })
  afterAll(() => rig.cleanup())

  it('follows every live run of an instance without a window asking, until the run completes', async () => {
    const runId = await startRun(rig.session, fakePlan([{ game: 'breakout', target: 200, eps: 40 }]))
    const bus = createEventBus()
    const runs = createRunsService({ bus, hosts: createHostRegistry(rig.session), bundleDir: rig.root, instanceName: () => 'This computer', notify: () => {}, log: () => {} })
    const delivered: RunEvent[] = []
    const stop = bus.listen('runs.events', (batch) => {
      if (batch.runId === runId) delivered.push(...batch.events)
    })
    try {
      await runs.followLiveRuns('local')
      expect(runs.attachOf('local', runId)).not.toBeNull()
      await expect.poll(() => delivered.some((e) => e.type === 'run_completed'), { timeout: 30_000 }).toBe(true)
      expect(delivered.map((e) => e.seq)).toEqual(delivered.map((_, i) => i + 1)) // from seq 1, no gap
      expect(delivered.some((e) => e.type === 'game_completed' && e.game === 'breakout')).toBe(true)
    } finally {
      stop()
      runs.dispose()
    }
  })

  it('runs.list only lists: it does not start following a live run (main follows at start-up and on connect)', async () => {
    const runId = await startRun(rig.session, fakePlan([{ game: 'breakout', target: 100_000, eps: 5 }]))
    const runs = createRunsService({ bus: createEventBus(), hosts: createHostRegistry(rig.session), bundleDir: rig.root, instanceName: () => 'This computer', notify: () => {}, log: () => {} })
    try {
      const listed = await runs.api['runs.list']({ instanceId: 'local' }, ctx)
      expect(listed.find((r) => r.runId === runId)?.supervisorAlive).toBe(true)
      expect(runs.attachOf('local', runId)).toBeNull()
    } finally {
      runs.dispose()
      await stopRun(rig.session, runId)
    }
  })

  it('runs.resumeRun starts a stopped run again under the same id (start --run-id) and follows it on from where its stream ended', async () => {
    const runId = await startRun(rig.session, fakePlan([{ game: 'freeway', target: 100_000, eps: 5 }]))
    const bus = createEventBus()
    const delivered: RunEvent[] = []
    const liveInChanged: string[] = []
    const offEvents = bus.listen('runs.events', (batch) => batch.runId === runId && delivered.push(...batch.events))
    const offChanged = bus.listen('runs.changed', ({ runs: list }) => liveInChanged.push(...list.filter((r) => r.runId === runId && r.supervisorAlive).map((r) => r.runId)))
    const runs = createRunsService({ bus, hosts: createHostRegistry(rig.session), bundleDir: rig.root, instanceName: () => 'This computer', notify: () => {}, log: () => {} })
    try {
      await runs.followLiveRuns('local')
      await expect.poll(() => delivered.some((e) => e.type === 'game_started'), { timeout: 20_000 }).toBe(true)
      await runs.api['runs.stop']({ instanceId: 'local', runId }, ctx)
      await expect.poll(() => runs.attachOf('local', runId)?.state().status, { timeout: 20_000 }).toBe('ended')
      liveInChanged.length = 0

      expect(await runs.api['runs.resumeRun']({ instanceId: 'local', runId }, ctx)).toEqual({ runId })
      await expect.poll(() => liveInChanged.length, { timeout: 20_000 }).toBeGreaterThan(0)
      // The ended stream follows the resumed run: its new events arrive, after the old ones, with no gap.
      await expect.poll(() => delivered.some((e) => e.type === 'run_started' && e.resumed), { timeout: 20_000 }).toBe(true)
      await expect.poll(() => runs.attachOf('local', runId)?.state().status, { timeout: 20_000 }).toBe('live')
      expect(delivered.map((e) => e.seq)).toEqual(delivered.map((_, i) => i + 1))
      // A live run cannot be resumed twice: the host's refusal comes back as a sentence.
      await expect(runs.api['runs.resumeRun']({ instanceId: 'local', runId }, ctx)).rejects.toThrow(/already running/)
    } finally {
      offEvents()
      offChanged()
      runs.dispose()
      await stopRun(rig.session, runId)
    }
  })
})
