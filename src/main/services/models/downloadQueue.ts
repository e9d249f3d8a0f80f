/**
 * Downloads waiting and running, with bounded concurrency. One job per file (asking twice joins
 * the first), progress as `models.progress` events, cancel by file or by run. The outcome of the
 * last failed attempt is remembered so the list can say why a file is not verified.
 */
import type { LocalStatus, ProgressEvent } from '../../../shared/api/models'
import { hostPath } from '../host/hostPath'
import type { HostRegistry } from '../host/hostRegistry'
import { downloadVerified, VerificationError, type DownloadProgress } from './downloader'
import type { DownloadConnection } from './downloadProtocol'
import type { DownloadProcesses } from './downloadProcesses'
import type { BackupFolder } from './backupFolder'
import type { RemoteModelRecord } from './remoteModels'

export interface DownloadJob {
  instanceId: string
  runId: string
  record: RemoteModelRecord
}

export type DownloadOutcome = { ok: true; localPath: string } | { ok: false; message: string; cancelled: boolean; mismatch: boolean }

export interface JobState {
  status: LocalStatus
  progress: number | null
  message: string | null
}

export interface DownloadQueue {
  enqueue(job: DownloadJob): Promise<DownloadOutcome>
  cancel(instanceId: string, runId: string, path?: string): number
  state(instanceId: string, runId: string, path: string): JobState | null
  dispose(): void
}

interface Entry {
  job: DownloadJob
  controller: AbortController
  promise: Promise<DownloadOutcome>
  resolve(outcome: DownloadOutcome): void
  state: JobState
}

const keyOf = (instanceId: string, runId: string, path: string) => `${instanceId}\u0000${runId}\u0000${path}`

/** Downloads from SSH instances in download processes (downloadProcesses.ts); absent: in this process. */
export interface RemoteDownloads {
  processes: DownloadProcesses
  connection(instanceId: string): Promise<DownloadConnection>
}

export function createDownloadQueue(deps: { hosts: HostRegistry; backupFolder: BackupFolder; emit(event: ProgressEvent): void; concurrency?: number; remote?: RemoteDownloads }): DownloadQueue {
  const concurrency = deps.concurrency ?? 2
  const waiting: Entry[] = []
  const active = new Map<string, Entry>()
  const pending = new Map<string, Entry>()
  const lastFailure = new Map<string, JobState>()

  const emit = (entry: Entry, received: number, bytesPerSec: number | null) => {
    const { instanceId, runId, record } = entry.job
    deps.emit({ instanceId, runId, path: record.path, status: entry.state.status, received, total: record.size, bytesPerSec, message: entry.state.message })
  }

  async function run(entry: Entry): Promise<DownloadOutcome> {
    const { instanceId, runId, record } = entry.job
    const lease = await deps.hosts.acquire(instanceId)
    try {
      const dest = await deps.backupFolder.destination(instanceId, runId, record.game, record.file)
      const remotePath = await hostPath(lease, ...record.path.split('/'))
      const job = {
        remotePath,
        expectedSha256: record.sha256,
        expectedSize: record.size,
        signal: entry.controller.signal,
        onProgress: (p: DownloadProgress) => {
          entry.state = { status: 'downloading', progress: p.total ? p.received / p.total : 1, message: null }
          emit(entry, p.received, p.bytesPerSec)
        },
      }
      const result =
        lease.kind === 'ssh' && deps.remote
          ? await deps.remote.processes.download({
              ...job,
              instanceId,
              connection: await deps.remote.connection(instanceId),
              root: dest.root,
              segments: dest.segments,
            })
          : await downloadVerified({ ...job, source: lease, dest: dest.path })
      await deps.backupFolder.recordVerified(instanceId, runId, {
        file: `${record.game}/${record.file}`,
        path: record.path,
        kind: record.kind,
        game: record.game,
        sha256: result.sha256,
        size: result.size,
        verified_at: Date.now() / 1000,
        source: `${instanceId}:${remotePath}`,
      })
      return { ok: true, localPath: result.path }
    } finally {
      lease.release()
    }
  }

  function pump(): void {
    while (active.size < concurrency && waiting.length > 0) {
      const entry = waiting.shift()!
      const key = keyOf(entry.job.instanceId, entry.job.runId, entry.job.record.path)
      active.set(key, entry)
      entry.state = { status: 'downloading', progress: 0, message: null }
      emit(entry, 0, null)
      run(entry)
        .catch((error: unknown): DownloadOutcome => {
          const cancelled = entry.controller.signal.aborted
          const message = cancelled ? 'Cancelled.' : error instanceof Error ? error.message : String(error)
          return { ok: false, message, cancelled, mismatch: error instanceof VerificationError }
        })
        .then((outcome) => {
          active.delete(key)
          pending.delete(key)
          if (outcome.ok) {
            lastFailure.delete(key)
            entry.state = { status: 'verified', progress: 1, message: null }
          } else if (outcome.cancelled) {
            entry.state = { status: 'missing', progress: null, message: null }
          } else {
            entry.state = { status: outcome.mismatch ? 'mismatch' : 'failed', progress: null, message: outcome.message }
            lastFailure.set(key, entry.state)
          }
          emit(entry, outcome.ok ? entry.job.record.size : 0, null)
          entry.resolve(outcome)
          pump()
        })
    }
  }

  return {
    enqueue(job) {
      const key = keyOf(job.instanceId, job.runId, job.record.path)
      const existing = pending.get(key)
      if (existing) return existing.promise
      let resolve!: (o: DownloadOutcome) => void
      const promise = new Promise<DownloadOutcome>((r) => (resolve = r))
      const entry: Entry = { job, controller: new AbortController(), promise, resolve, state: { status: 'queued', progress: null, message: null } }
      pending.set(key, entry)
      waiting.push(entry)
      emit(entry, 0, null)
      pump()
      return promise
    },
    cancel(instanceId, runId, path) {
      let count = 0
      for (const [key, entry] of pending) {
        const j = entry.job
        if (j.instanceId !== instanceId || j.runId !== runId || (path !== undefined && j.record.path !== path)) continue
        count++
        entry.controller.abort()
        const i = waiting.indexOf(entry)
        if (i >= 0) {
          waiting.splice(i, 1)
          pending.delete(key)
          entry.state = { status: 'missing', progress: null, message: null }
          emit(entry, 0, null)
          entry.resolve({ ok: false, message: 'Cancelled.', cancelled: true, mismatch: false })
        }
      }
      return count
    },
    state(instanceId, runId, path) {
      const key = keyOf(instanceId, runId, path)
      return pending.get(key)?.state ?? lastFailure.get(key) ?? null
    },
    dispose() {
      for (const entry of pending.values()) entry.controller.abort()
    },
  }
}
