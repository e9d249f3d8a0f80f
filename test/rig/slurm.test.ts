/**
 * The SLURM rig itself: a batch job submitted with the rig's SLURM_CONF runs on the one node and
 * writes its output; stop() leaves no daemon behind; and a test run killed mid-way leaves none
 * behind once the next rig starts.
 */
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { buildSync } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cmdline, PIDS_FILE, requireSlurm, startSlurm, stopStaleRigs, type SlurmHandle } from './slurm'

describe.skipIf(!requireSlurm())('slurm rig', () => {
  let slurm: SlurmHandle
  beforeAll(async () => {
    slurm = await startSlurm()
  }, 60_000)
  afterAll(async () => {
    await slurm?.stop()
  })

  it('a test run killed mid-way leaves no daemons behind: the next rig stops them', async () => {
    // Another test run (its own Node process, this rig bundled) starts a rig and is killed outright.
    const bundle = path.join(mkdtempSync(path.join(os.tmpdir(), 'gantry-rig-bundle-')), 'slurm.mjs')
    buildSync({ entryPoints: [path.join(import.meta.dirname, 'slurm.ts')], bundle: true, platform: 'node', format: 'esm', outfile: bundle, logLevel: 'silent' })
    const script = `const rig = await import(${JSON.stringify(bundle)}); console.log((await rig.startSlurm({ cpus: 1 })).dir); setInterval(() => {}, 1000)`
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
    const dir = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve)
      child.once('exit', (code) => reject(new Error(`the other test run ended (${code}) before its rig started`)))
    })
    child.kill('SIGKILL')
    await new Promise((r) => child.once('exit', r))
    rmSync(path.dirname(bundle), { recursive: true, force: true })
    const daemons = (JSON.parse(readFileSync(path.join(dir, PIDS_FILE), 'utf8')) as { daemons: Array<{ name: string; pid: number; cmdline: string }> }).daemons
    expect(daemons.map((d) => d.name).sort()).toEqual(['munged', 'slurmctld', 'slurmd'])
    expect(daemons.every((d) => cmdline(d.pid) === d.cmdline)).toBe(true) // leaked, for now

    const ended = await stopStaleRigs()
    expect(ended.map((d) => d.pid)).toEqual(expect.arrayContaining(daemons.map((d) => d.pid)))
    const deadline = Date.now() + 20_000
    while (daemons.some((d) => cmdline(d.pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
    expect(daemons.filter((d) => cmdline(d.pid))).toEqual([])
    expect(existsSync(dir)).toBe(false)
    // This run's own rig (its starter alive) was left alone.
    expect(existsSync(path.join(slurm.dir, PIDS_FILE))).toBe(true)
    await slurm.waitNodeState('idle')
  }, 90_000)

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
    rmSync(dir, { recursive: true, force: true })
  }, 60_000)
})
