/**
 * "After the run" end to end: the real services (createServices behind the router) against a real
 * sshd, the real gantry_remote CLI and supervisor (fake trainer) on the "host", and a fake action
 * command that appends a line to a file. It runs exactly once, only after the run's backup is
 * verified on this computer (a blocked backup keeps it waiting), and never again: not after a
 * services restart, not after a crash between "starting" and the host's answer, not for a second
 * desktop that also had it armed. Never for This computer, and a SLURM instance cannot have one.
 */
import { spawnSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AfterRunStatus } from '../../../shared/api/runs'
import { requireSshd, startSshd, type SshdHandle } from '../../../../test/rig/sshd'
import { FAKE_TRAINER_ENV, PYTHON, fakePlan, havePython } from '../../../../test/support/localRig'
import { REPO_ROOT } from '../../../../test/support/prerequisites'
import { createServicesRig, type ServicesRig } from '../../../../test/support/servicesRig'
import { createInstanceStore } from '../instances/store'

const INSTANCE = 'gpu-1'
const BUNDLE = 'test-bundle'

describe.skipIf(!havePython() || !requireSshd())('after-run command over ssh (real sshd, real services)', () => {
  let sshd: SshdHandle
  let top: string
  let root: string
  let dataDir: string
  let backupFolder: string
  let marks: string

  /** The host's CLI, run as the host would (same machine): starts runs with the fake trainer. */
  const hostCli = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnSync(PYTHON, ['-m', 'gantry_remote', ...args, '--root', root], {
      encoding: 'utf8',
      cwd: path.join(REPO_ROOT, 'remote'),
      env: { ...process.env, ...FAKE_TRAINER_ENV, GANTRY_PROGRESS_INTERVAL_S: '0.3', GANTRY_TICK_S: '0.1', ...env },
    })
    if (r.status !== 0) throw new Error(`gantry_remote ${args[0]} failed: ${r.stdout}${r.stderr}`)
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, unknown>
  }
  /** slowStop: its trainers ignore SIGTERM, so a stop keeps the supervisor alive for its grace period (3 s). */
  const startHostRun = (runId: string, target = 80, { slowStop = false } = {}) => {
    const plan = path.join(top, `plan-${runId}.json`)
    const games = fakePlan([{ game: 'breakout', target, eps: 10 }, { game: 'freeway', target: 60, eps: 10 }]).games
    const slow = slowStop ? games.map((g) => ({ ...g, trainer_args: { ...g.trainer_args, fake_ignore_sigterm: true } })) : games
    writeFileSync(plan, JSON.stringify({ ...fakePlan([]), slots: 2, games: slow }))
    hostCli(['start', '--plan', plan, '--run-id', runId], slowStop ? { GANTRY_STOP_GRACE_S: '3' } : {})
  }
  const lines = () => (existsSync(marks) ? readFileSync(marks, 'utf8').split('\n').filter(Boolean) : [])

  const openServices = (): ServicesRig => {
    const rig = createServicesRig({ dataDir, afterRunCheckIntervalMs: 700, backupDebounceMs: 100 })
    rig.answerWith(() => ({ accept: true }))
    return rig
  }
  const statusOf = (rig: ServicesRig, runId: string) => rig.api['runs.afterRun']({ instanceId: INSTANCE, runId })
  const pollStatus = async (rig: ServicesRig, runId: string, want: (s: AfterRunStatus) => boolean, timeout = 45_000) => {
    let last: AfterRunStatus | null = null
    await expect
      .poll(async () => want((last = await statusOf(rig, runId))), { timeout, interval: 200 })
      .toBe(true)
      .catch((error: unknown) => {
        throw new Error(`${String(error)}; last status: ${JSON.stringify(last)}`)
      })
    return last!
  }

  beforeAll(async () => {
    Object.assign(process.env, FAKE_TRAINER_ENV) // This computer's runs (created by the services) train with the fake trainer
    sshd = await startSshd()
    top = mkdtempSync(path.join(os.tmpdir(), 'gantry-after-run-'))
    root = path.join(sshd.dir, 'gantry-root')
    dataDir = path.join(top, 'data')
    backupFolder = path.join(top, 'backups')
    marks = path.join(top, 'after-run-marks')
    // The host already set up: Gantry's code where setup puts it (this machine is the host).
    cpSync(path.join(REPO_ROOT, 'remote'), path.join(root, 'remote', BUNDLE), { recursive: true, filter: (src) => !/__pycache__|\.pytest_cache|[/]tests$/.test(src) })
    mkdirSync(dataDir, { recursive: true })
    writeFileSync(path.join(dataDir, 'models-settings.json'), JSON.stringify({ backupFolder, scheduleHours: 0, backupOnEvents: true, includeCheckpoints: false }))
    const store = createInstanceStore(dataDir)
    await store.load()
    await store.put({
      id: INSTANCE,
      kind: 'ssh',
      name: 'gpu one',
      host: sshd.host,
      port: sshd.port,
      user: 'root',
      auth: { kind: 'key', keyPath: sshd.clientKeyPath, hasPassphrase: false },
      jump: null,
      hourlyPrice: 2,
      notes: '',
      gantryRoot: root,
      hostKey: null,
      jumpHostKey: null,
      setup: { status: 'ready', remoteHash: BUNDLE, checkedAt: Date.now(), message: null },
      createdAt: Date.now(),
      slurm: null,
      afterRunCommand: `echo ran >> '${marks}'; echo done-on-host`,
    })
  }, 60_000)

  afterAll(async () => {
    spawnSync(PYTHON, ['-m', 'gantry_remote', 'stop', '--root', root, '--wait', '--grace', '2'], { cwd: path.join(REPO_ROOT, 'remote'), timeout: 30_000 })
    await sshd?.stop()
    if (top) rmSync(top, { recursive: true, force: true })
  })

  it('waits while the backup is incomplete, runs exactly once once it is verified, and never again', { timeout: 180_000 }, async () => {
    const runId = 'run-after-1'
    // The backup of this run cannot be written: a file sits where its folder must go.
    mkdirSync(path.join(backupFolder, INSTANCE), { recursive: true })
    writeFileSync(path.join(backupFolder, INSTANCE, runId), 'not a folder')
    startHostRun(runId)

    let rig = openServices()
    try {
      await rig.api['instances.testConnection']({ id: INSTANCE }) // connected: main follows its live runs and arms them
      const armed = await pollStatus(rig, runId, (s) => s.state === 'armed')
      expect(armed.command).toContain('echo ran')

      const waiting = await pollStatus(rig, runId, (s) => s.state === 'waiting' && /not verified/.test(s.message ?? ''))
      expect(waiting.message).toMatch(/files are not verified on this computer/)
      expect(lines()).toEqual([]) // the run is over, the backup is not: nothing ran

      rmSync(path.join(backupFolder, INSTANCE, runId)) // the backup can be written now
      const done = await pollStatus(rig, runId, (s) => s.state === 'finished')
      expect(done).toMatchObject({ exitCode: 0, command: expect.stringContaining('echo ran') })
      expect(done.output).toContain('done-on-host')
      expect(lines()).toEqual(['ran'])
      // Every model of the run is in the backup folder's verified manifest.
      const manifest = JSON.parse(readFileSync(path.join(backupFolder, INSTANCE, runId, 'manifest.json'), 'utf8')) as { files: Array<{ kind: string }> }
      expect(manifest.files.filter((f) => f.kind === 'model').length).toBeGreaterThanOrEqual(2)
      // The host recorded it in the run's files.
      expect(JSON.parse(readFileSync(path.join(root, 'runs', runId, 'after_run.json'), 'utf8'))).toMatchObject({ state: 'finished', exit_code: 0 })
      const seen = rig.eventsOf('runs.afterRun').filter((s) => s.runId === runId).map((s) => s.state)
      expect(seen, `states published: ${seen.join(' ')}`).toContain('running')
      const titles = rig.eventsOf('app.notification').map((n) => n.title)
      expect(titles, `notifications: ${titles.join(' | ')}`).toContain('After-run command ran')
      await expect(rig.api['runs.cancelAfterRun']({ instanceId: INSTANCE, runId })).rejects.toThrow(/already started/)
    } finally {
      await rig.dispose()
    }

    // A crash between "starting" (written here) and the host's answer: after a restart the host's
    // record settles it; and a second desktop that still has it armed is refused by the host.
    const recordsFile = path.join(dataDir, 'after-run.json')
    for (const state of ['starting', 'armed'] as const) {
      const saved = JSON.parse(readFileSync(recordsFile, 'utf8')) as { runs: Record<string, { state: string; message: string | null }> }
      saved.runs[`${INSTANCE}/${runId}`] = { ...saved.runs[`${INSTANCE}/${runId}`], state, message: null }
      writeFileSync(recordsFile, JSON.stringify(saved))
      rig = openServices()
      try {
        await rig.api['instances.testConnection']({ id: INSTANCE })
        const settled = await pollStatus(rig, runId, (s) => s.state === 'finished')
        if (state === 'armed') expect(settled.message).toMatch(/already run/)
        expect(settled.exitCode).toBe(0)
      } finally {
        await rig.dispose()
      }
      expect(lines(), `after a restart with the record ${state}`).toEqual(['ran'])
    }
  })

  it('a command that takes the host away (no answer comes back) is recorded as started and never sent again', { timeout: 120_000 }, async () => {
    const runId = 'run-after-lost'
    const lost = `${marks}-lost`
    startHostRun(runId)
    const rig = openServices()
    try {
      // Edited in the settings as a user would: this command kills the CLI that runs it, as a shutdown would.
      await rig.api['instances.update']({
        id: INSTANCE,
        instance: { kind: 'ssh', name: 'gpu one', host: sshd.host, port: sshd.port, user: 'root', auth: { kind: 'key', keyPath: sshd.clientKeyPath }, gantryRoot: root, hourlyPrice: 2, afterRunCommand: `echo lost >> '${lost}'; kill -9 $PPID` },
      })
      await rig.api['instances.testConnection']({ id: INSTANCE })
      await pollStatus(rig, runId, (s) => s.state === 'armed')
      const settled = await pollStatus(rig, runId, (s) => s.state === 'started' && /no outcome came back/.test(s.message ?? ''))
      expect(settled.exitCode).toBeNull()
      expect(rig.eventsOf('runs.afterRun').some((s) => s.runId === runId && s.state === 'started' && /No answer came back from the host/.test(s.message ?? ''))).toBe(true)
      expect(JSON.parse(readFileSync(path.join(root, 'runs', runId, 'after_run.json'), 'utf8'))).toMatchObject({ state: 'started' })
      // The check after the lost answer asked the host (its record settled the state above) and sent nothing again.
      expect(readFileSync(lost, 'utf8')).toBe('lost\n')
    } finally {
      await rig.dispose()
    }
  })

  it('a stop asked for here disarms it, and so does Cancel; a SLURM instance cannot have one; This computer never gets one', { timeout: 120_000 }, async () => {
    const runId = 'run-after-stopped'
    const before = lines()
    startHostRun(runId, 100_000, { slowStop: true }) // still training when it is stopped, and slow to stop
    const rig = openServices()
    try {
      await rig.api['instances.testConnection']({ id: INSTANCE })
      await pollStatus(rig, runId, (s) => s.state === 'armed')
      const listedBefore = rig.eventsOf('runs.changed').length
      await rig.api['runs.stop']({ instanceId: INSTANCE, runId })
      // The stop returns while the supervisor still waits out its trainers; the listing that follows
      // sees the run alive. A run seen alive while it stops must stay disarmed.
      await expect.poll(() => rig.eventsOf('runs.changed').slice(listedBefore).some((c) => c.runs.some((r) => r.runId === runId && r.supervisorAlive)), { timeout: 30_000 }).toBe(true)
      const stopped = await statusOf(rig, runId)
      expect(stopped.state, `states published: ${rig.eventsOf('runs.afterRun').filter((s) => s.runId === runId).map((s) => s.state).join(' ')}`).toBe('cancelled')
      expect(stopped.message).toMatch(/You stopped this run/)
      await expect.poll(() => hostCli(['status', '--run', runId, '--json']).state, { timeout: 30_000 }).toBe('stopped')
      await rig.api['instances.testConnection']({ id: INSTANCE }) // the run is over: a check of its pending command now would start it
      expect((await statusOf(rig, runId)).state).toBe('cancelled')
      expect(existsSync(path.join(root, 'runs', runId, 'after_run.json'))).toBe(false)

      // Cancelled by the user while armed: the run completes and is backed up, and nothing runs.
      const cancelledRun = 'run-after-cancelled'
      startHostRun(cancelledRun, 40)
      rig.services.connector.drop(INSTANCE) // reconnect, so main follows (and arms) the new live run
      await rig.api['instances.testConnection']({ id: INSTANCE })
      await pollStatus(rig, cancelledRun, (s) => s.state === 'armed')
      expect(await rig.api['runs.cancelAfterRun']({ instanceId: INSTANCE, runId: cancelledRun })).toMatchObject({ state: 'cancelled', message: expect.stringMatching(/Cancelled/) })
      // The run's end reaches the services (which check the run then) and its models are backed up.
      await expect.poll(() => rig.eventsOf('runs.events').some((b) => b.runId === cancelledRun && b.events.some((e) => e.type === 'run_completed')), { timeout: 60_000 }).toBe(true)
      await expect.poll(() => existsSync(path.join(backupFolder, INSTANCE, cancelledRun, 'manifest.json')), { timeout: 60_000 }).toBe(true)
      expect((await statusOf(rig, cancelledRun)).state).toBe('cancelled')
      expect(existsSync(path.join(root, 'runs', cancelledRun, 'after_run.json'))).toBe(false)

      const slurm = { partition: '', account: '', qos: '', timeLimitMin: null, gres: '', cpusPerTask: null, memMb: null, extraSbatch: [] }
      await expect(
        rig.api['instances.add']({ instance: { kind: 'slurm', name: 'cluster', host: sshd.host, port: sshd.port, user: 'root', auth: { kind: 'agent' }, slurm, afterRunCommand: 'sudo shutdown -h now' } }),
      ).rejects.toThrow(/SLURM cluster runs no after-run command/)
      expect((await rig.api['instances.list']({})).map((i) => i.name)).not.toContain('cluster')
      // A real run on This computer, launched, finished and backed up: nothing is armed and nothing runs.
      const local = await rig.api['runs.launch']({ instanceId: 'local', plan: fakePlan([{ game: 'breakout', target: 20, eps: 20 }]) })
      await expect.poll(() => rig.eventsOf('runs.events').some((b) => b.instanceId === 'local' && b.runId === local.runId && b.events.some((e) => e.type === 'run_completed')), { timeout: 60_000 }).toBe(true)
      expect(await rig.api['runs.afterRun']({ instanceId: 'local', runId: local.runId })).toMatchObject({ state: 'off', command: null })
      expect(rig.eventsOf('runs.afterRun').filter((s) => s.instanceId === 'local')).toEqual([])
      expect(existsSync(path.join(dataDir, 'this-computer', 'runs', local.runId, 'after_run.json'))).toBe(false)
    } finally {
      await rig.dispose()
    }
    expect(lines()).toEqual(before)
  })
})
