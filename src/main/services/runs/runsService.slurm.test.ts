/**
 * A SLURM cluster instance end to end through the runs service, on the real single-node SLURM
 * (test/rig/slurm.ts) with this machine as the login node: runs.launch adds the instance's
 * scheduler block, the run goes to SLURM as a job array, and its journal arrives by polling
 * (sync + attach without --follow): every seq once, slurm_job events with the job ids and states,
 * and no long-lived gantry process on the login node.
 */
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { CallContext } from '../../../shared/contract'
import { SlurmSettings } from '../../../shared/api/instances'
import type { RunEvent } from '../../../shared/remoteProtocol'
import { createEventBus } from '../eventBus'
import { createHostRegistry } from '../host/hostRegistry'
import { createLocalSession } from '../local/localSession'
import { createRunsService } from './runsService'
import { FAKE_TRAINER_ENV, PYTHON, fakePlan, havePython } from '../../../../test/support/localRig'
import { REPO_ROOT } from '../../../../test/support/prerequisites'
import { pidsWhereArgv } from '../../../../test/rig/procs'
import { requireSlurm, startSlurm, type SlurmHandle } from '../../../../test/rig/slurm'

const ctx: CallContext = { connectionId: 'test', transport: 'ipc', signal: new AbortController().signal }

describe.skipIf(!havePython() || !requireSlurm())('runs service on a SLURM cluster instance', () => {
  let slurm: SlurmHandle
  beforeAll(async () => {
    slurm = await startSlurm()
    // The login node's environment: SLURM's commands find the cluster, jobs run the fake trainer.
    Object.assign(process.env, { SLURM_CONF: slurm.conf }, FAKE_TRAINER_ENV)
  }, 60_000)
  afterAll(async () => {
    delete process.env.SLURM_CONF
    await slurm?.stop()
  })

  it('launches as a job array and follows it by polling until it completes', async () => {
    const root = path.join(slurm.dir, 'gantry') // on the "shared filesystem" the node sees
    mkdirSync(root)
    const session = createLocalSession({ root, remoteCodeDir: path.join(REPO_ROOT, 'remote'), python: PYTHON })
    const bus = createEventBus()
    const settings = SlurmSettings.parse({ partition: slurm.partition, cpusPerTask: 1, gres: '' })
    const runs = createRunsService({ bus, hosts: createHostRegistry(session), bundleDir: root, instanceName: () => 'cluster', instanceSlurm: () => settings, instancePrice: () => 3, notify: () => {}, log: () => {} })
    const delivered: RunEvent[] = []
    const off = bus.listen('runs.events', (batch) => delivered.push(...batch.events))
    try {
      const { runId } = await runs.api['runs.launch']({ instanceId: 'local', plan: fakePlan([{ game: 'breakout', target: 40 }, { game: 'freeway', target: 40 }], { budget: { limit: 100, unit: 'usd', on_limit: 'warn' } }) }, ctx)
      await expect.poll(() => delivered.some((e) => e.type === 'run_completed'), { timeout: 90_000, interval: 500 }).toBe(true)
      expect(delivered.map((e) => e.seq)).toEqual(delivered.map((_, i) => i + 1))
      const started = delivered.find((e) => e.type === 'run_started')
      expect(started).toMatchObject({ type: 'run_started', games: ['breakout', 'freeway'] })
      const jobs = delivered.filter((e): e is Extract<RunEvent, { type: 'slurm_job' }> => e.type === 'slurm_job')
      expect(new Set(jobs.map((j) => j.game))).toEqual(new Set(['breakout', 'freeway']))
      for (const j of jobs) expect(j.job_id).toMatch(/^\d+_[01]$/)
      expect(jobs.some((j) => j.state === 'RUNNING' && j.node === slurm.node) || jobs.some((j) => j.state === 'COMPLETED')).toBe(true)
      expect(delivered.filter((e) => e.type === 'game_completed').map((e) => (e as { game: string }).game).sort()).toEqual(['breakout', 'freeway'])
      expect(delivered.at(-1)).toMatchObject({ type: 'run_completed', state: 'completed' })
      // The budget is counted on SLURM too: the jobs' GPU-hours at the instance's price (filled in at launch).
      const budgets = delivered.filter((e): e is Extract<RunEvent, { type: 'budget' }> => e.type === 'budget')
      expect(budgets.length).toBeGreaterThan(0)
      for (const b of budgets) expect(b.spent).toBeCloseTo((b.gpu_hours ?? -1) * 3, 5)
      expect(runs.attachOf('local', runId)?.state().status).toBe('ended')
      // Nothing of ours keeps running on the login node: no attach --follow, no supervisor.
      expect(pidsWhereArgv((argv) => argv.includes(root) && (argv.includes('--follow') || argv.includes('supervise')))).toEqual([])
    } finally {
      off()
      runs.dispose()
    }
  }, 120_000)
})
