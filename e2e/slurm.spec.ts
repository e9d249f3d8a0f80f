/**
 * A SLURM cluster added through the wizard and trained on, with every part real: the single-node
 * SLURM of test/rig/slurm.ts, a real sshd as its login node (whose environment points SLURM's
 * commands at the cluster, as a site's does), the app's doctor (with its test job), setup over SSH,
 * and a 2-game quick demo submitted as a job array. The jobs run the fake trainer (set in the login
 * node's environment) so the test spends its time on SLURM, not on PPO. Cards show each game's job
 * id and SLURM state, the GPU gauges come from the jobs' own samples; the run completes.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { requireSlurm, startSlurm, type SlurmHandle } from '../test/rig/slurm'
import { sshdUnavailableReason, startSshd, type SshdHandle } from '../test/rig/sshd'
import { FAKE_TRAINER } from '../test/support/localRig'
import { expect, requirePrerequisite, TEST_PYTHON, test } from './fixtures'
import { cardsProgress, untilDone } from './progress'

test.use({ appEnv: { GANTRY_SETUP_PYTHON: TEST_PYTHON, GANTRY_PROGRESS_INTERVAL_S: '2' } })

let slurm: SlurmHandle | null = null
let sshd: SshdHandle | null = null
test.afterAll(async () => {
  await sshd?.stop()
  await slurm?.stop()
})

test('a SLURM cluster: add it with the wizard, check it, set up, run a 2-game demo as jobs', async ({ page, app }) => {
  test.setTimeout(2_400_000) // a ceiling only: the waits inside fail early on a stall
  requirePrerequisite(sshdUnavailableReason() === null, 'OpenSSH server', sshdUnavailableReason() ?? '')
  if (!requireSlurm()) test.skip(true, 'SLURM is not installed (see test/rig/slurm.ts)')
  slurm = await startSlurm()
  const trainer = JSON.stringify([TEST_PYTHON, FAKE_TRAINER]).replace(/"/g, '\\"')
  // The jobs sample "their GPUs" through a stand-in nvidia-smi (this machine has none).
  const smi = path.join(mkdtempSync(path.join(os.tmpdir(), 'gantry-e2e-slurm-smi-')), 'nvidia-smi')
  writeFileSync(smi, '#!/bin/sh\necho "0, NVIDIA H200, 81, 40960, 143771, 52, 410.5"\n')
  chmodSync(smi, 0o755)
  sshd = await startSshd({ extraConfig: [`SetEnv SLURM_CONF=${slurm.conf} GANTRY_FAKE_EPS=150 GANTRY_NVIDIA_SMI=${smi} "GANTRY_TRAINER_COMMAND=${trainer}"`] })
  const gantryRoot = path.join(slurm.dir, 'gantry-root') // where the compute node sees it

  await page.getByRole('region', { name: 'Welcome' }).getByRole('button', { name: 'Add a GPU instance' }).click()
  const wizard = page.getByRole('dialog', { name: 'Add an instance' })
  // The kind comes first: a SLURM cluster asks for its login node, then the SLURM settings.
  await expect(wizard.getByRole('group', { name: 'SLURM cluster' })).toHaveCount(0)
  await wizard.getByTestId('instance-kind-slurm').check()
  await wizard.getByTestId('instance-name').fill('cluster')
  await wizard.getByTestId('instance-host').fill(sshd.host)
  await wizard.getByTestId('instance-port').fill(String(sshd.port))
  await wizard.getByTestId('instance-user').fill(sshd.user)
  await wizard.getByTestId('instance-key-path').fill(sshd.clientKeyPath)
  await wizard.getByTestId('instance-gantry-root').fill(gantryRoot)
  const settings = wizard.getByRole('group', { name: 'SLURM cluster' })
  await settings.getByTestId('slurm-partition').fill(slurm.partition)
  await settings.getByTestId('slurm-gres').fill('') // no GPUs on this cluster
  await settings.getByTestId('slurm-cpus').fill('1')
  await settings.getByTestId('slurm-time').fill('30')
  await app.screenshot('slurm-wizard')
  await wizard.getByRole('button', { name: 'Add and test connection' }).click()
  await page.getByRole('dialog', { name: 'Trust this host key?' }).getByRole('button', { name: 'Trust' }).click()
  await expect(wizard.getByTestId('connection-ok')).toContainText(sshd.hostKeyFingerprint)
  await wizard.getByRole('button', { name: 'Check the host' }).click()
  // The doctor checks the cluster too: its one-minute test job ran on the node.
  await expect(wizard.getByTestId('doctor-report')).toContainText(`ran on ${slurm.node}`, { timeout: 120_000 })
  await expect(wizard.getByTestId('doctor-report')).toContainText('Partitions: debug')
  // Its state and output streamed into the wizard's terminal as they arrived.
  const streamed = wizard.getByTestId('setup-terminal').locator('.xterm-rows')
  // It asked for what each game's job asks for: the instance's SLURM settings.
  await expect(streamed).toContainText(/Submitted test job \d+ with --partition=debug --cpus-per-task=1;/)
  await expect(streamed).toContainText(`node=${slurm.node}`)
  await expect(streamed).toContainText('shared=yes')
  await expect(streamed).toContainText(/job \d+ finished\./)
  await app.screenshot('slurm-doctor')
  await wizard.getByRole('button', { name: 'Next' }).click()
  await wizard.getByRole('button', { name: 'Next' }).click()
  await wizard.getByRole('button', { name: 'Set up now' }).click()
  await untilDone({
    what: 'set-up of the login node',
    done: () => wizard.getByRole('button', { name: 'Done' }).isVisible(),
    progress: async () => (await wizard.locator('.setup-step').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-step')}:${r.getAttribute('data-status')}`))).join(' '),
    stallMs: 600_000,
    overallMs: 1_800_000,
  })
  await wizard.getByRole('button', { name: 'Done' }).click()

  await expect(page.getByRole('heading', { level: 1, name: 'cluster' })).toBeVisible()
  await expect(page.getByRole('navigation', { name: 'Instances' }).locator('[data-instance-id="cluster"]').getByTestId('instance-kind')).toHaveText('SLURM cluster')
  await page.getByRole('button', { name: 'Launch Training' }).click()
  const dialog = page.getByRole('dialog', { name: 'Launch Training' })
  const kept = ['breakout', 'asterix']
  for (const game of ['space_invaders', 'seaquest']) await dialog.getByRole('button', { name: `Remove ${game}` }).click()
  await dialog.getByRole('button', { name: 'Start training' }).click()

  // Each card names its array task and SLURM's state for it.
  for (const game of kept) {
    const card = page.getByRole('article', { name: `${game} card` })
    await expect(card.getByTestId('slurm-job')).toHaveText(/^job \d+_[01] · (PENDING|RUNNING|COMPLETING|COMPLETED)/, { timeout: 120_000 })
  }
  await expect(page.getByRole('article', { name: 'breakout card' }).getByTestId('slurm-job')).toContainText(`RUNNING on ${slurm.node}`, { timeout: 120_000 })
  // Each job's GPU samples become the run's gauges: one per GPU per node, labelled with the node.
  const gauge = page.getByRole('list', { name: 'GPUs' }).getByTestId(`gpu-gauge-${slurm.node}-0`)
  await expect(gauge).toContainText(`GPU 0 on ${slurm.node}`, { timeout: 120_000 })
  await expect(gauge.getByRole('meter', { name: `GPU 0 on ${slurm.node} utilisation` })).toHaveAttribute('value', '81')
  // The job's trainer writes its picture into the shared game folder; the card reads it over SFTP.
  const picture = page.getByRole('article', { name: 'breakout card' }).getByTestId('game-thumb').locator('img')
  await expect.poll(async () => ((await picture.count()) ? picture.evaluate((img: HTMLImageElement) => img.naturalWidth) : 0), { timeout: 60_000 }).toBe(84)
  await app.screenshot('slurm-training')
  await untilDone({
    what: 'the 2-game demo on SLURM',
    done: async () => (await page.locator('.game-card[data-state="completed"]').count()) === kept.length,
    progress: () => cardsProgress(page, kept),
    stallMs: 180_000,
    overallMs: 600_000,
  })
  await app.screenshot('slurm-completed')
})
