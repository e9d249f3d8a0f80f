/**
 * The models API: per-run model lists with local status, the download queue, backup settings
 * and history, drag-out, "save a copy" chunks for the browser, and local ONNX validation.
 */
import { open } from 'node:fs/promises'
import path from 'node:path'
import * as modelsApi from '../../../shared/api/models'
import type { CallContext, DomainImpl } from '../../../shared/contract'
import { RpcError } from '../../../shared/rpc'
import type { EventBus } from '../eventBus'
import type { HostRegistry } from '../host/hostRegistry'
import type { Platform } from '../platform'
import { createBackups, type Backups } from './backups'
import { createDownloadQueue, type DownloadQueue, type RemoteDownloads } from './downloadQueue'
import { checkBackupFolder } from './folderCheck'
import { createBackupFolder, type BackupFolder } from './backupFolder'
import { validateModel } from './onnx/validate'
import { builtinGamePort } from './episode/builtinGamePort'
import { createWatcher } from './episode/watch'
import type { PolicyLimits } from './onnx/policyProcess'
import { listRemoteModels, type RemoteModelRecord } from './remoteModels'
import { createUploads } from './uploads'
import { readFile } from 'node:fs/promises'

export interface ModelsServiceDeps {
  platform: Platform
  bus: EventBus
  hosts: HostRegistry
  listInstanceIds(): Promise<string[]>
  /** Where downloads from SSH instances run (absent: in this process). */
  remoteDownloads?: RemoteDownloads
  /** Overrides for tests. */
  concurrency?: number
  backupCheckIntervalMs?: number
  backupDebounceMs?: number
  /** Memory and time the model process may use while a model plays (tests lower them). */
  playLimits?: PolicyLimits
}

export interface ModelsService {
  api: DomainImpl<typeof modelsApi.methods>
  backupFolder: BackupFolder
  queue: DownloadQueue
  backups: Backups
  dispose(): Promise<void>
}

async function listFor(hosts: HostRegistry, instanceId: string, runId: string, log: (l: string) => void): Promise<RemoteModelRecord[]> {
  const lease = await hosts.acquire(instanceId)
  try {
    return await listRemoteModels(lease, runId, log)
  } finally {
    lease.release()
  }
}

export function createModelsService(deps: ModelsServiceDeps): ModelsService {
  const { platform, bus, hosts } = deps
  const backupFolder = createBackupFolder(platform.dataDir)
  const queue = createDownloadQueue({ hosts, backupFolder, concurrency: deps.concurrency, remote: deps.remoteDownloads, emit: (e) => bus.emit('models.progress', e, e.instanceId) })
  const backups = createBackups({
    dataDir: platform.dataDir,
    hosts,
    backupFolder,
    queue,
    listInstanceIds: deps.listInstanceIds,
    emit: (h) => bus.emit('models.backup', h),
    notify: (notification) => bus.emit('app.notification', notification),
    checkIntervalMs: deps.backupCheckIntervalMs,
    debounceMs: deps.backupDebounceMs,
  })
  const uploads = createUploads(path.join(platform.dataDir, 'tmp-uploads'))
  const watcher = createWatcher()

  async function row(instanceId: string, runId: string, r: RemoteModelRecord): Promise<modelsApi.ModelRow> {
    const base = {
      runId,
      game: r.game,
      kind: r.kind,
      file: r.file,
      path: r.path,
      size: r.size,
      sha256: r.sha256,
      step: r.step ?? null,
      episodes: r.episodes ?? null,
      meanReturn: r.mean_return ?? null,
      createdTs: r.created_ts ?? null,
    }
    const job = queue.state(instanceId, runId, r.path)
    const copy = await backupFolder.verifiedCopy(instanceId, runId, r.path)
    if (job && (job.status === 'queued' || job.status === 'downloading')) {
      return { ...base, local: { status: job.status, progress: job.progress, localPath: copy?.localPath ?? null, verifiedAt: copy?.verified_at ?? null, message: null } }
    }
    if (copy && copy.sha256 === r.sha256) {
      return { ...base, local: { status: 'verified', progress: null, localPath: copy.localPath, verifiedAt: copy.verified_at, message: null } }
    }
    if (job) return { ...base, local: { status: job.status, progress: null, localPath: copy?.localPath ?? null, verifiedAt: copy?.verified_at ?? null, message: job.message } }
    if (copy) {
      const when = new Date(copy.verified_at * 1000).toLocaleString()
      return { ...base, local: { status: 'mismatch', progress: null, localPath: copy.localPath, verifiedAt: copy.verified_at, message: `Your copy (verified ${when}) differs from the file on the host now. Download again to update it; your copy stays until the new one is verified.` } }
    }
    return { ...base, local: { status: 'missing', progress: null, localPath: null, verifiedAt: null, message: null } }
  }

  /** The verified local copy of a file, downloading (and verifying) it first when needed. */
  async function ensureLocal(instanceId: string, runId: string, relPath: string, withProbe: boolean): Promise<string> {
    const existing = await backupFolder.verifiedCopy(instanceId, runId, relPath)
    let records: RemoteModelRecord[] | null = null
    const fetchOne = async (p: string): Promise<string> => {
      const copy = await backupFolder.verifiedCopy(instanceId, runId, p)
      if (copy) return copy.localPath
      records ??= await listFor(hosts, instanceId, runId, platform.log)
      const record = records.find((r) => r.path === p)
      if (!record) throw new RpcError('not_found', `${path.basename(p)} is not in run ${runId} on ${instanceId} any more. Refresh the list.`)
      const outcome = await queue.enqueue({ instanceId, runId, record })
      if (!outcome.ok) throw new RpcError(outcome.cancelled ? 'cancelled' : 'remote_failed', outcome.message)
      return outcome.localPath
    }
    const localPath = existing?.localPath ?? (await fetchOne(relPath))
    if (withProbe && relPath.endsWith('.onnx')) {
      await fetchOne(`${relPath}.probe.json`).catch((error: unknown) => {
        if (!(error instanceof RpcError && error.code === 'not_found')) throw error
      })
    }
    return localPath
  }

  const api: DomainImpl<typeof modelsApi.methods> = {
    'models.list': async ({ instanceId, runId }) => {
      const records = await listFor(hosts, instanceId, runId, platform.log)
      return Promise.all(records.map((r) => row(instanceId, runId, r)))
    },
    'models.download': async ({ instanceId, runId, paths }) => {
      const records = await listFor(hosts, instanceId, runId, platform.log)
      const wanted = paths ? records.filter((r) => paths.includes(r.path)) : records
      if (paths && wanted.length < paths.length) throw new RpcError('not_found', 'Some files are no longer on the host (trainers keep only their latest models). Refresh the list.')
      let queued = 0
      for (const record of wanted) {
        const copy = await backupFolder.verifiedCopy(instanceId, runId, record.path)
        if (!paths && copy && copy.sha256 === record.sha256) continue
        queued++
        void queue.enqueue({ instanceId, runId, record }).then((outcome) => {
          if (!outcome.ok && !outcome.cancelled) bus.emit('app.notification', { level: 'error', title: `Download of ${record.file} failed`, body: outcome.message })
        })
      }
      return { queued }
    },
    'models.cancel': async ({ instanceId, runId, path: p }) => ({ cancelled: queue.cancel(instanceId, runId, p) }),
    'models.settings': async () => backupFolder.settings(),
    'models.updateSettings': async (patch) => {
      if (patch.backupFolder !== undefined) patch.backupFolder = await checkBackupFolder(patch.backupFolder)
      const next = await backupFolder.updateSettings(patch)
      bus.emit('models.backup', await backups.history())
      return next
    },
    'models.chooseBackupFolder': async () => {
      if (!platform.chooseFolder) return { supported: false, settings: await backupFolder.settings() }
      const folder = await platform.chooseFolder('Choose the folder for model backups')
      if (!folder) return { supported: true, settings: await backupFolder.settings() }
      return { supported: true, settings: await backupFolder.updateSettings({ backupFolder: await checkBackupFolder(folder) }) }
    },
    'models.backupNow': async ({ instanceId }) => backups.run('manual', instanceId ?? null, null),
    'models.backupHistory': async () => backups.history(),
    'models.validate': async ({ instanceId, runId, path: p }) => {
      const localPath = await ensureLocal(instanceId, runId, p, true)
      return validateModel({ modelPath: localPath })
    },
    'models.watch': async ({ instanceId, runId, path: p, seed }, ctx) =>
      watcher.watch({ ensureLocal: (relPath) => ensureLocal(instanceId, runId, relPath, false), builtinGame: builtinGamePort, limits: deps.playLimits, signal: ctx.signal }, p, seed ?? 1),
    'models.episodeFrames': async ({ episodeId, from, count }) => watcher.frames(episodeId, from, count),
    'models.startDrag': async ({ instanceId, runId, path: p }, ctx: CallContext) => {
      const localPath = await ensureLocal(instanceId, runId, p, false)
      if (!platform.startDrag || ctx.sender === undefined) return { started: false, localPath }
      platform.startDrag(ctx.sender, localPath)
      return { started: true, localPath }
    },
    'models.readChunk': async ({ instanceId, runId, path: p, offset, length }) => {
      const copy = await backupFolder.verifiedCopy(instanceId, runId, p)
      if (!copy) throw new RpcError('not_found', `${path.basename(p)} has no verified copy on this computer yet. Download it first.`)
      const handle = await open(copy.localPath, 'r')
      try {
        const buf = Buffer.alloc(Math.max(0, Math.min(length, copy.size - offset)))
        const { bytesRead } = await handle.read(buf, 0, buf.length, offset)
        return { base64: buf.subarray(0, bytesRead).toString('base64'), size: copy.size, eof: offset + bytesRead >= copy.size }
      } finally {
        await handle.close()
      }
    },
    'models.uploadChunk': async ({ uploadId, name, offset, base64 }) => ({ received: await uploads.append(uploadId, name, offset, Buffer.from(base64, 'base64')) }),
    'models.validateUpload': async ({ uploadId, probeUploadId }) => {
      const model = uploads.take(uploadId)
      try {
        const probeText = probeUploadId ? await readFile(uploads.take(probeUploadId).file, 'utf8') : null
        return await validateModel({ modelPath: model.file, displayName: model.name, probeText })
      } finally {
        await uploads.discard(uploadId)
        if (probeUploadId) await uploads.discard(probeUploadId)
      }
    },
  }

  return {
    api,
    backupFolder,
    queue,
    backups,
    async dispose() {
      queue.dispose()
      backups.dispose()
      await uploads.dispose()
    },
  }
}
