/**
 * The assembled services follow a run that was already training when the app started: its
 * events reach the bus (and so notifications and event-triggered backups) with no window open.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RunEvent } from '../../shared/remoteProtocol'
import { createWebPlatform } from '../../web/webPlatform'
import { createServices, type Services } from './index'
import { createLocalSession } from './local/localSession'
import { startRun } from './runs/supervisorControl'
import { fakePlan, havePython, PYTHON, useFakeTrainer } from '../../../test/support/localRig'
import { REPO_ROOT } from '../../../test/support/prerequisites'

describe.skipIf(!havePython())('services at start-up', () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'gantry-services-'))
  useFakeTrainer()
  const session = createLocalSession({ root: path.join(dataDir, 'this-computer'), remoteCodeDir: path.join(REPO_ROOT, 'remote'), python: PYTHON })
  let services: Services | null = null
  beforeAll(() => {
    process.env.GANTRY_PYTHON = PYTHON
  })
  afterAll(async () => {
    await services?.dispose() // the fake run ends on its own within seconds
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('follow the live runs of This computer without being asked', async () => {
    const runId = await startRun(session, fakePlan([{ game: 'freeway', target: 200, eps: 40 }]))
    services = createServices(createWebPlatform({ dataDir, bundleDir: REPO_ROOT, appVersion: '0.0.0-test', secretsFile: null }))
    const delivered: RunEvent[] = []
    services.bus.listen('runs.events', (batch) => {
      if (batch.runId === runId) delivered.push(...batch.events)
    })
    await expect.poll(() => delivered.some((e) => e.type === 'run_completed'), { timeout: 30_000 }).toBe(true)
    expect(delivered.some((e) => e.type === 'game_completed' && e.game === 'freeway')).toBe(true)
  })
})
