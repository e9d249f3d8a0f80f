/**
 * Automatic backups: after a model is exported or a game completes (journal events), on a
 * schedule (default daily), or on demand. Only files without a verified local copy of the same
 * sha256 are downloaded. The history (last success, failures) is kept atomically in the data
 * folder and published as `models.backup`.
 */
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { z } from 'zod'
import type { Notification } from '../../../shared/api/app'
import { BackupRecord, type BackupHistory } from '../../../shared/api/models'
import { RunsResult } from '../../../shared/remoteProtocol'
import { writeFileAtomic } from '../atomicFile'
import type { HostRegistry } from '../host/hostRegistry'
import { runGantry } from '../host/gantryCli'
import type { DownloadQueue } from './downloadQueue'
import type { BackupFolder } from './backupFolder'
import { listRemoteModels } from './remoteModels'

const KEEP_RECORDS = 50
const TRIGGER_EVENTS = new Set(['model_exported', 'game_completed'])
const HistoryFile = z.object({ records: z.array(BackupRecord), lastScheduledAt: z.number().nullable() })

/** Whether a backup copies this file of a run: models and probes always, checkpoints when the settings say so. */
export function backupWants(record: { kind: string }, includeCheckpoints: boolean): boolean {
  return includeCheckpoints || record.kind !== 'checkpoint'
}

export interface BackupDeps {
  dataDir: string
  hosts: HostRegistry
  backupFolder: BackupFolder
  queue: DownloadQueue
  /** Instances a scheduled backup visits (connected ones). */
  listInstanceIds(): Promise<string[]>
  emit(history: BackupHistory): void
  notify(notification: Notification): void
  /** How often the schedule is checked (tests shorten it). */
  checkIntervalMs?: number
  /** Quiet time after a journal event before its backup starts, so bursts share one backup. */
  debounceMs?: number
}

export interface Backups {
  history(): Promise<BackupHistory>
  run(trigger: BackupRecord['trigger'], instanceId: string | null, runId: string | null): Promise<BackupHistory>
  onRunEvents(instanceId: string, runId: string, events: Array<{ type: string }>): void
  dispose(): void
}

export function createBackups(deps: BackupDeps): Backups {
  const file = path.join(deps.dataDir, 'models-backups.json')
  let state: z.infer<typeof HistoryFile> | null = null
  let running = 0
  let chain: Promise<unknown> = Promise.resolve()
  const debounced = new Map<string, NodeJS.Timeout>()
  const startedAt = Date.now()

  async function load(): Promise<z.infer<typeof HistoryFile>> {
    if (state) return state
    try {
      const parsed = HistoryFile.safeParse(JSON.parse(await readFile(file, 'utf8')))
      state = parsed.success ? parsed.data : { records: [], lastScheduledAt: null }
    } catch {
      state = { records: [], lastScheduledAt: null }
    }
    return state
  }

  async function save(): Promise<void> {
    await writeFileAtomic(file, `${JSON.stringify(await load(), null, 2)}\n`)
  }

  async function history(): Promise<BackupHistory> {
    const s = await load()
    const { scheduleHours } = await deps.backupFolder.settings()
    const done = s.records.filter((r) => r.finishedAt !== null)
    const ok = done.filter((r) => r.failures.length === 0)
    const bad = done.filter((r) => r.failures.length > 0)
    return {
      lastSuccessAt: ok.length ? Math.max(...ok.map((r) => r.finishedAt!)) : null,
      lastFailureAt: bad.length ? Math.max(...bad.map((r) => r.finishedAt!)) : null,
      nextScheduledAt: scheduleHours > 0 ? (s.lastScheduledAt ?? startedAt) + scheduleHours * 3_600_000 : null,
      running: running > 0,
      records: [...s.records].reverse(),
    }
  }

  async function backupRun(record: BackupRecord, instanceId: string, runId: string): Promise<void> {
    const { includeCheckpoints } = await deps.backupFolder.settings()
    const lease = await deps.hosts.acquire(instanceId)
    let models
    try {
      models = await listRemoteModels(lease, runId)
    } finally {
      lease.release()
    }
    const wanted = models.filter((m) => backupWants(m, includeCheckpoints))
    const outcomes = await Promise.all(
      wanted.map(async (m) => {
        const copy = await deps.backupFolder.verifiedCopy(instanceId, runId, m.path)
        if (copy && copy.sha256 === m.sha256) return { file: m.file, skipped: true as const }
        return { file: m.file, outcome: await deps.queue.enqueue({ instanceId, runId, record: m }) }
      }),
    )
    for (const o of outcomes) {
      if ('skipped' in o) record.skipped++
      else if (o.outcome.ok) record.downloaded++
      else record.failures.push({ file: o.file, message: o.outcome.message })
    }
  }

  async function runNow(trigger: BackupRecord['trigger'], instanceId: string | null, runId: string | null): Promise<BackupRecord[]> {
    const instanceIds = instanceId ? [instanceId] : await deps.listInstanceIds()
    const records: BackupRecord[] = []
    for (const id of instanceIds) {
      const record: BackupRecord = { id: randomBytes(6).toString('hex'), trigger, instanceId: id, runId, startedAt: Date.now(), finishedAt: null, downloaded: 0, skipped: 0, failures: [] }
      records.push(record)
      const s = await load()
      s.records.push(record)
      s.records.splice(0, Math.max(0, s.records.length - KEEP_RECORDS))
      deps.emit(await history())
      try {
        let runIds = runId ? [runId] : null
        if (!runIds) {
          const lease = await deps.hosts.acquire(id)
          try {
            runIds = (await runGantry(lease, 'runs', ['--json'], RunsResult)).runs.map((r) => r.run_id)
          } finally {
            lease.release()
          }
        }
        for (const rid of runIds) await backupRun(record, id, rid)
      } catch (error) {
        record.failures.push({ file: runId ?? '(run list)', message: error instanceof Error ? error.message : String(error) })
      }
      record.finishedAt = Date.now()
      await save()
      deps.emit(await history())
      if (record.failures.length) {
        deps.notify({ level: 'warning', title: 'Backup incomplete', body: `${record.failures.length} file(s) from ${id} were not backed up: ${record.failures[0].message}` })
      }
    }
    return records
  }

  function run(trigger: BackupRecord['trigger'], instanceId: string | null, runId: string | null): Promise<BackupHistory> {
    running++
    const next = chain.then(() => runNow(trigger, instanceId, runId))
    chain = next.catch(() => {})
    return next.finally(() => running--).then(async () => {
      const h = await history()
      deps.emit(h)
      return h
    })
  }

  const timer = setInterval(() => {
    void (async () => {
      const h = await history()
      if (h.nextScheduledAt === null || Date.now() < h.nextScheduledAt || running > 0) return
      ;(await load()).lastScheduledAt = Date.now()
      await run('schedule', null, null)
    })().catch(() => {})
  }, deps.checkIntervalMs ?? 60_000)
  timer.unref()

  return {
    history,
    run,
    onRunEvents(instanceId, runId, events) {
      if (!events.some((e) => TRIGGER_EVENTS.has(e.type))) return
      void deps.backupFolder.settings().then((s) => {
        if (!s.backupOnEvents) return
        const key = `${instanceId}/${runId}`
        clearTimeout(debounced.get(key))
        const t = setTimeout(() => {
          debounced.delete(key)
          void run('event', instanceId, runId).catch(() => {})
        }, deps.debounceMs ?? 3000)
        t.unref()
        debounced.set(key, t)
      })
    },
    dispose() {
      clearInterval(timer)
      for (const t of debounced.values()) clearTimeout(t)
    },
  }
}
