/**
 * The runs service follows live runs on its own: a run started outside it (another window, the
 * CLI, before an app restart) delivers its events on the bus once the instance's runs are
 * listed, with no renderer watching it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunEvent } from '../../../shared/remoteProtocol'
import { createEventBus } from '../eventBus'
import { createHostRegistry } from '../host/hostRegistry'
import { createRunsService } from './runsService'
import { startRun } from './supervisorControl'
import { createLocalRig, fakePlan, havePython, type LocalRig } from '../../../../test/support/localRig'

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
})
