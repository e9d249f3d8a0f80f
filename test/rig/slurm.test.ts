/**
 * The SLURM rig itself: a batch job submitted with the rig's SLURM_CONF runs on the one node and
 * writes its output; stop() leaves no daemon behind.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requireSlurm, startSlurm, type SlurmHandle } from './slurm'

describe.skipIf(!requireSlurm())('slurm rig', () => {
  let slurm: SlurmHandle
  beforeAll(async () => {
    slurm = await startSlurm()
  }, 60_000)
  afterAll(async () => {
    await slurm?.stop()
  })

  it('runs a batch job on its one node, then stops every daemon it started', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-slurm-job-'))
    const script = path.join(dir, 'hello.sh')
    writeFileSync(script, '#!/bin/bash\necho "hello from $SLURM_JOB_ID on $SLURMD_NODENAME"\n')
    const out = path.join(dir, 'hello.out')
    const job = slurm.run(['sbatch', '--parsable', '-o', out, script]).trim()
    const deadline = Date.now() + 30_000
    while (slurm.run(['squeue', '-h', '-o', '%i']).split(/\s+/).includes(job) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200))
    expect(readFileSync(out, 'utf8').trim()).toBe(`hello from ${job} on ${slurm.node}`)

    const pids = ['slurmctld', 'slurmd'].map((d) => Number(readFileSync(path.join(slurm.dir, `${d}.pid`), 'utf8')))
    await slurm.stop()
    for (const pid of pids) expect(existsSync(`/proc/${pid}`)).toBe(false)
  }, 60_000)
})
