/**
 * The models service end to end on "This computer": the real supervisor and fake trainer make a
 * run, the real gantry_remote CLI lists it, and downloads/backups go through the local
 * HostSession into a real backup folder.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ProgressEvent, BackupHistory } from '../../../shared/api/models'
import type { CallContext } from '../../../shared/contract'
import { createEventBus } from '../eventBus'
import { createHostRegistry } from '../host/hostRegistry'
import { createLocalSession } from '../local/localSession'
import type { Platform } from '../platform'
import { createBackupFolder } from './backupFolder'
import { createModelsService, type ModelsService } from './modelsService'
import { REPO_ROOT } from '../../../../test/support/prerequisites'
import { finishedFakeRun } from '../../../../test/support/models/localRun'

const ctx: CallContext = { connectionId: 't', transport: 'ws', signal: new AbortController().signal }

describe('models service on This computer', () => {
  let dir: string
  let root: string
  let runId: string
  let service: ModelsService
  let platform: Platform
  const drags: Array<[unknown, string]> = []
  const progress: ProgressEvent[] = []
  const backupsSeen: BackupHistory[] = []
  const bus = createEventBus()

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'gantry-models-svc-'))
    root = path.join(dir, 'data', 'this-computer')
    runId = await finishedFakeRun(root)
    platform = {
      appVersion: 'test',
      dataDir: path.join(dir, 'data'),
      bundleDir: REPO_ROOT,
      secrets: { info: () => ({ backend: 'memory', persistent: false, warning: null }), get: async () => null, set: async () => {}, delete: async () => {} },
      notify: null,
      chooseFolder: null,
      startDrag: (sender, file) => void drags.push([sender, file]),
      log: () => {},
    }
    const hosts = createHostRegistry(createLocalSession({ root, remoteCodeDir: path.join(REPO_ROOT, 'remote'), python: 'python3' }))
    bus.listen('models.progress', (p) => void progress.push(p))
    bus.listen('models.backup', (h) => void backupsSeen.push(h))
    service = createModelsService({ platform, bus, hosts, listInstanceIds: async () => ['local'], backupDebounceMs: 50 })
    bus.listen('runs.events', ({ instanceId, runId: r, events }) => service.backups.onRunEvents(instanceId, r, events))
  }, 60_000)

  afterAll(async () => {
    await service?.dispose()
    rmSync(dir, { recursive: true, force: true })
  })

  const until = async (check: () => Promise<boolean> | boolean, ms = 20_000) => {
    const deadline = Date.now() + ms
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('condition not met in time')
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  it('lists every model, probe and checkpoint of the run, none downloaded yet', async () => {
    const rows = await service.api['models.list']({ instanceId: 'local', runId }, ctx)
    expect(new Set(rows.map((r) => r.game))).toEqual(new Set(['breakout', 'freeway']))
    expect(new Set(rows.map((r) => r.kind))).toEqual(new Set(['model', 'probe', 'checkpoint']))
    const model = rows.find((r) => r.kind === 'model' && r.game === 'breakout')!
    expect(model.step).toBeGreaterThan(0)
    expect(model.meanReturn).not.toBeNull()
    expect(rows.every((r) => r.local.status === 'missing')).toBe(true)
  })

  it('downloads one model into <backup>/<instance>/<run>/<game>/<file> with a manifest, verified', async () => {
    const rows = await service.api['models.list']({ instanceId: 'local', runId }, ctx)
    const model = rows.find((r) => r.kind === 'model' && r.game === 'breakout')!
    expect(await service.api['models.download']({ instanceId: 'local', runId, paths: [model.path] }, ctx)).toEqual({ queued: 1 })
    await until(() => progress.some((p) => p.path === model.path && p.status === 'verified'))
    const local = path.join(dir, 'data', 'models', 'local', runId, 'breakout', model.file)
    expect(readFileSync(local).equals(readFileSync(path.join(root, model.path)))).toBe(true)
    const manifest = JSON.parse(readFileSync(path.join(dir, 'data', 'models', 'local', runId, 'manifest.json'), 'utf8')) as { files: Array<Record<string, unknown>> }
    expect(manifest.files).toEqual([expect.objectContaining({ file: `breakout/${model.file}`, sha256: model.sha256, size: model.size, source: `local:${path.join(root, model.path)}` })])
    expect(progress.filter((p) => p.path === model.path).map((p) => p.status)).toEqual(expect.arrayContaining(['queued', 'downloading', 'verified']))
    const after = (await service.api['models.list']({ instanceId: 'local', runId }, ctx)).find((r) => r.path === model.path)!
    expect(after.local).toMatchObject({ status: 'verified', localPath: local })
  })

  it('a journal event triggers a backup of only the new files, recorded in the history', async () => {
    const before = backupsSeen.length
    bus.emit('runs.events', { instanceId: 'local', runId, events: [{ v: 1, type: 'model_exported', ts: 1, run: runId, seq: 9, game: 'freeway', file: 'x.onnx', sha256: 'a'.repeat(64), size: 1, global_step: 1 }] })
    await until(async () => backupsSeen.length > before && !(await service.backups.history()).running && (await service.backups.history()).records.length > 0)
    const history = await service.api['models.backupHistory']({}, ctx)
    const record = history.records[0]
    expect(record).toMatchObject({ trigger: 'event', instanceId: 'local', runId, failures: [] })
    expect(record.skipped).toBe(1) // the model downloaded above
    expect(record.downloaded).toBe(3) // breakout probe, freeway model + probe (no checkpoints by default)
    expect(history.lastSuccessAt).toBe(record.finishedAt)
    expect(history.nextScheduledAt).toBeGreaterThan(Date.now())
    const rows = await service.api['models.list']({ instanceId: 'local', runId }, ctx)
    expect(rows.filter((r) => r.local.status === 'verified')).toHaveLength(4)
    expect(rows.filter((r) => r.kind === 'checkpoint').every((r) => r.local.status === 'missing')).toBe(true)

    const again = await service.api['models.backupNow']({ instanceId: 'local' }, ctx)
    expect(again.records[0]).toMatchObject({ trigger: 'manual', downloaded: 0, skipped: 4, failures: [] })
  })

  it('a host file that no longer matches its sha256 fails as a mismatch and keeps the verified copy', async () => {
    const rows = await service.api['models.list']({ instanceId: 'local', runId }, ctx)
    const model = rows.find((r) => r.kind === 'model' && r.game === 'freeway')!
    const remote = path.join(root, model.path)
    const original = readFileSync(remote)
    const flipped = Buffer.from(original)
    flipped[10] ^= 0xff
    writeFileSync(remote, flipped) // same size: the host's manifest still claims the old sha256
    await service.api['models.download']({ instanceId: 'local', runId, paths: [model.path] }, ctx)
    await until(() => progress.some((p) => p.path === model.path && p.status === 'mismatch'))
    const row = (await service.api['models.list']({ instanceId: 'local', runId }, ctx)).find((r) => r.path === model.path)!
    expect(row.local.status).toBe('verified') // the copy on disk is still the verified one of this sha
    expect(readFileSync(row.local.localPath!).equals(original)).toBe(true)
    const failure = progress.filter((p) => p.path === model.path).pop()!
    expect(failure.message).toMatch(/failed verification.*untouched/)
    writeFileSync(remote, original)
  })

  it('drags the verified file out through the platform, and serves it in chunks for "Save a copy"', async () => {
    const rows = await service.api['models.list']({ instanceId: 'local', runId }, ctx)
    const ckpt = rows.find((r) => r.kind === 'checkpoint')!
    const sender = { window: 1 }
    const drag = await service.api['models.startDrag']({ instanceId: 'local', runId, path: ckpt.path }, { ...ctx, sender })
    expect(drag.started).toBe(true)
    expect(drags).toEqual([[sender, drag.localPath]]) // downloaded and verified first
    expect(statSync(drag.localPath).size).toBe(ckpt.size)
    const chunk = await service.api['models.readChunk']({ instanceId: 'local', runId, path: ckpt.path, offset: 0, length: 1024 * 1024 }, ctx)
    expect(Buffer.from(chunk.base64, 'base64').equals(readFileSync(path.join(root, ckpt.path)))).toBe(true)
    expect(chunk.eof).toBe(true)
  })

  it('validates an uploaded file and says clearly that the fake trainer’s .onnx is not a model', async () => {
    const rows = await service.api['models.list']({ instanceId: 'local', runId }, ctx)
    const model = rows.find((r) => r.kind === 'model')!
    const bytes = readFileSync(path.join(root, model.path))
    await service.api['models.uploadChunk']({ uploadId: 'upload-0001', name: model.file, offset: 0, base64: bytes.toString('base64') }, ctx)
    const report = await service.api['models.validateUpload']({ uploadId: 'upload-0001' }, ctx)
    expect(report.validated).toBe(false)
    expect(report.problems[0]).toMatch(new RegExp(`^${model.file.replace('.', '\\.')} is not an ONNX file`))
    await expect(service.api['models.validateUpload']({ uploadId: 'upload-0001' }, ctx)).rejects.toThrow(/upload is gone/)
  })

  it('persists the backup folder setting and refuses a relative path', async () => {
    const folder = path.join(dir, 'elsewhere')
    const s = await service.api['models.updateSettings']({ backupFolder: folder, scheduleHours: 6 }, ctx)
    expect(s).toMatchObject({ backupFolder: folder, scheduleHours: 6 })
    expect(existsSync(folder)).toBe(true)
    expect(await createBackupFolder(path.join(dir, 'data')).settings()).toMatchObject({ backupFolder: folder, scheduleHours: 6 })
    await expect(service.api['models.updateSettings']({ backupFolder: 'models' }, ctx)).rejects.toThrow(/not a full path/)
    const rows = await service.api['models.list']({ instanceId: 'local', runId }, ctx)
    expect(rows.some((r) => r.local.status === 'verified')).toBe(false) // the new folder is empty
  })

  it('refuses a backup folder under /proc with a sentence instead of hanging Save', async () => {
    await expect(service.api['models.updateSettings']({ backupFolder: '/proc/nope' }, ctx)).rejects.toThrow(/not on a disk/)
    expect((await service.api['models.settings']({}, ctx)).backupFolder).not.toBe('/proc/nope')
  }, 3000)

  it('runs a scheduled backup when one is due, and records it', async () => {
    const platformDir = path.join(dir, 'data')
    const hosts = createHostRegistry(createLocalSession({ root, remoteCodeDir: path.join(REPO_ROOT, 'remote'), python: 'python3' }))
    const scheduled = createModelsService({
      platform: { ...platform, dataDir: platformDir },
      bus,
      hosts,
      listInstanceIds: async () => ['local'],
      backupCheckIntervalMs: 100,
    })
    try {
      await scheduled.api['models.updateSettings']({ scheduleHours: 0.0003 }, ctx) // about one second
      await until(async () => (await scheduled.backups.history()).records.some((r) => r.trigger === 'schedule' && r.finishedAt !== null), 30_000)
      // The schedule fires again every second here: look at a finished run of it, not one just started.
      const record = (await scheduled.backups.history()).records.find((r) => r.trigger === 'schedule' && r.finishedAt !== null)!
      expect(record).toMatchObject({ instanceId: 'local', runId: null, failures: [] })
      expect(record.downloaded + record.skipped).toBe(4) // every model and probe of the run, nothing else
    } finally {
      await scheduled.dispose()
    }
  })
})
