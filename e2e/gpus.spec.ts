/**
 * A host with two GPUs (a stand-in nvidia-smi) and an MPS control daemon that refuses to start:
 * the run keeps `slots` trainers on each GPU, each card says which GPU its game runs on, the GPU
 * panel has one gauge per GPU with its games, and the dashboard says why games take turns.
 */
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect, requirePrerequisite, ROOT, test } from './fixtures'
import { launchCustomPlan, setUpThisComputer } from './steps'

const PYTHON = process.env.GANTRY_PYTHON ?? 'python3'
const tools = mkdtempSync(path.join(os.tmpdir(), 'gantry-e2e-gpus-'))
const smi = path.join(tools, 'nvidia-smi')
writeFileSync(smi, '#!/bin/sh\necho "0, NVIDIA H200, 81, 40960, 143771, 52, 410.5"\necho "1, NVIDIA H200, 77, 38912, 143771, 49, 398.0"\n')
chmodSync(smi, 0o755)

test.use({
  appEnv: {
    GANTRY_PROGRESS_INTERVAL_S: '0.3',
    GANTRY_ATTACH_HEARTBEAT_S: '1',
    GANTRY_TRAINER_COMMAND: JSON.stringify([PYTHON, path.join(ROOT, 'remote', 'tests', 'fake_trainer.py')]),
    GANTRY_NVIDIA_SMI: smi,
    GANTRY_MPS_CONTROL: path.join(ROOT, 'remote', 'tests', 'fake_mps_control.py'),
    FAKE_MPS_REFUSE: '1',
  },
})

test('two GPUs: games placed on both, one gauge per GPU, and why they time-slice', async ({ page, app }) => {
  requirePrerequisite(spawnSync(PYTHON, ['--version']).status === 0, 'Python 3', 'install python3 (or set GANTRY_PYTHON)')
  await setUpThisComputer(page)
  const game = (name: string) => ({ game: name, backend: 'builtin', target_episodes: 100_000, trainer_args: { fake_episodes_per_sec: 5 } })
  const plan = { name: 'two GPUs', slots: 2, gpu_sample_s: 1, games: ['breakout', 'freeway', 'asterix', 'seaquest', 'space_invaders'].map(game) }
  await launchCustomPlan(page, plan)

  // Two slots on each of two GPUs: four games run, placed 0, 1, 0, 1 (least loaded first).
  for (const [name, gpu] of [['breakout', 0], ['freeway', 1], ['asterix', 0], ['seaquest', 1]] as const) {
    await expect(page.getByRole('article', { name: `${name} card` }).getByText(`GPU ${gpu}`, { exact: true })).toBeVisible({ timeout: 60_000 })
  }
  await expect(page.getByRole('article', { name: 'space_invaders card' }).locator('.badge')).toHaveText('queued')

  const gauges = page.getByRole('list', { name: 'GPUs' })
  await expect(gauges.getByRole('listitem')).toHaveCount(2, { timeout: 30_000 })
  await expect(gauges.getByTestId('gpu-gauge-0')).toContainText('breakout, asterix')
  await expect(gauges.getByTestId('gpu-gauge-1')).toContainText('freeway, seaquest')
  await expect(gauges.getByRole('meter', { name: 'GPU 1 utilisation' })).toHaveAttribute('value', '77')
  await expect(page.getByRole('note').filter({ hasText: 'take turns' })).toContainText('refused to start')
  await app.screenshot('two-gpus')
})
