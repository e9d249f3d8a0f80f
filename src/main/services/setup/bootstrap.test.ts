/**
 * The one-click setup against a real sshd "host": the bundle is uploaded over SFTP into a temp
 * remote root, setup.sh builds a venv that reuses the CI venv's torch (pip offline, no retries),
 * runs the smoke training, and a second run skips upload and installs. A failing step is reported
 * with its message and the output streamed.
 */
import { existsSync, readdirSync, rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { requireSshd, startSshd, type SshdHandle } from '../../../../test/rig/sshd'
import { LOCAL_INSTANCE_ID } from '../../../shared/api/instances'
import { REPO_ROOT } from '../../../../test/support/prerequisites'
import { createServicesRig, snapshotBundleDir } from '../../../../test/support/servicesRig'
import { hashBundle } from './remoteBundle'

const VENV_PYTHON = path.join(REPO_ROOT, '.venv', 'bin', 'python')

function requireVenv(): boolean {
  if (existsSync(VENV_PYTHON)) return true
  const message = `${VENV_PYTHON} is missing: create it with python3 -m venv .venv && .venv/bin/pip install torch numpy onnx onnxruntime gymnasium`
  if (process.env.CI === 'true') throw new Error(message)
  console.warn(`[skip] ${message}`)
  return false
}

describe.skipIf(!requireSshd() || !requireVenv())('bootstrap over ssh', () => {
  let sshd: SshdHandle
  let bundleDir: string
  beforeAll(async () => {
    bundleDir = snapshotBundleDir()
    sshd = await startSshd()
  })
  afterAll(async () => {
    await sshd?.stop()
    rmSync(bundleDir, { recursive: true, force: true })
  })

  it('uploads once, installs once, and a second run of a ready host takes seconds', { timeout: 240_000 }, async () => {
    const rig = createServicesRig({ bundleDir, setupPython: VENV_PYTHON, setupPipArgs: '--retries 0' })
    try {
      rig.answerWith(() => ({ accept: true }))
      const root = path.join(sshd.dir, 'gantry-root')
      const { id } = await rig.api['instances.add']({ instance: { name: 'gpu-1', host: sshd.host, port: sshd.port, user: 'root', auth: { kind: 'key', keyPath: sshd.clientKeyPath }, gantryRoot: root } })

      // Doctor first: uploads the bundle and reports before anything is installed.
      const doctor = await rig.api['setup.doctor']({ id })
      expect(doctor.os).toBe('Linux')
      expect(doctor.verdicts.length).toBeGreaterThan(0)
      const bundle = await hashBundle(path.join(bundleDir, 'remote'))
      expect(existsSync(path.join(root, 'remote', bundle.hash, '.gantry-bundle'))).toBe(true)
      expect(existsSync(path.join(root, 'remote', bundle.hash, 'tests'))).toBe(false)
      expect(existsSync(path.join(root, 'venv'))).toBe(false)

      const first = await rig.api['setup.run']({ id })
      const status = Object.fromEntries(first.steps.map((s) => [s.id, s.status]))
      expect(first.ok, first.message).toBe(true)
      expect(first.uploaded).toBe(false) // the doctor already put this exact bundle there
      expect(status).toMatchObject({ upload: 'skip', python: 'ok', venv: 'ok', torch: 'ok', packages: 'ok', smoke_env: 'ok', smoke_train: 'ok' })
      expect(first.steps.find((s) => s.id === 'torch')!.message).toMatch(/reusing torch/)
      expect(readdirSync(path.join(root, 'remote')).filter((n) => !n.startsWith('.'))).toEqual([bundle.hash])
      const output = rig.eventsOf('setup.output').map((e) => e.data).join('')
      expect(output).toContain('GANTRY_STEP smoke_train ok')
      const summary = (await rig.api['instances.list']({})).find((i) => i.id === id)!
      expect(summary.setup).toMatchObject({ status: 'ready', remoteHash: bundle.hash })

      // The session now knows how to run the CLI from the uploaded code.
      const lease = await rig.services.hosts.acquire(id)
      try {
        const argv = lease.gantryCommand()
        expect(argv).toEqual(['env', `PYTHONPATH=${root}/remote/${bundle.hash}`, 'python3', '-m', 'gantry_remote'])
        const runs = await lease.run([...argv!, 'runs', '--json', '--root', lease.root])
        expect(runs.code, runs.stderr).toBe(0)
      } finally {
        lease.release()
      }

      const second = await rig.api['setup.run']({ id })
      expect(second.ok).toBe(true)
      expect(second.uploaded).toBe(false)
      expect(second.steps.filter((s) => ['venv', 'torch', 'packages', 'smoke_train'].includes(s.id)).map((s) => s.status)).toEqual(['skip', 'skip', 'skip', 'skip'])
      expect(second.durationMs).toBeLessThan(15_000)
      console.log(`setup over ssh: first ${first.durationMs} ms, second ${second.durationMs} ms`)
    } finally {
      rig.dispose()
    }
  })

  it('reports the failing step with its message and keeps the state as failed', { timeout: 120_000 }, async () => {
    const rig = createServicesRig({ bundleDir, setupPython: '/nonexistent/python3', setupPipArgs: '--retries 0' })
    try {
      rig.answerWith(() => ({ accept: true }))
      const { id } = await rig.api['instances.add']({ instance: { name: 'broken', host: sshd.host, port: sshd.port, user: 'root', auth: { kind: 'key', keyPath: sshd.clientKeyPath }, gantryRoot: path.join(sshd.dir, 'broken-root') } })
      const result = await rig.api['setup.run']({ id })
      expect(result.ok).toBe(false)
      expect(result.uploaded).toBe(true)
      const python = result.steps.find((s) => s.id === 'python')!
      expect(python.status).toBe('fail')
      expect(python.message).toMatch(/no Python 3\.8\+ found \(tried \/nonexistent\/python3\)/)
      expect(result.message).toMatch(/^Setup failed at "Python": no Python/)
      const steps = rig.eventsOf('setup.steps')
      expect(steps.at(-1)).toMatchObject({ instanceId: id, running: false })
      const summary = (await rig.api['instances.list']({})).find((i) => i.id === id)!
      expect(summary.setup.status).toBe('failed')
    } finally {
      rig.dispose()
    }
  })

  it('sets up "This computer" from the app bundle in place (no upload), reusing GANTRY_PYTHON', { timeout: 180_000 }, async () => {
    const rig = createServicesRig({ bundleDir, localPython: VENV_PYTHON, setupPipArgs: '--retries 0' })
    try {
      const doctor = await rig.api['setup.doctor']({ id: LOCAL_INSTANCE_ID })
      expect(doctor.os).toBe('Linux')
      const result = await rig.api['setup.run']({ id: LOCAL_INSTANCE_ID })
      expect(result.ok, result.message).toBe(true)
      expect(result.steps[0]).toMatchObject({ id: 'upload', status: 'skip', message: 'not needed on this computer' })
      expect(existsSync(path.join(rig.dataDir, 'this-computer', 'venv', 'bin', 'python'))).toBe(true)
      expect(existsSync(path.join(rig.dataDir, 'this-computer', 'remote'))).toBe(false)
      expect((await rig.api['instances.list']({}))[0].setup.status).toBe('ready')
    } finally {
      rig.dispose()
    }
  })
})
