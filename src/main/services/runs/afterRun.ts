/**
 * "After the run": the instance's after-run command (stop the machine), run once over SSH when a
 * run is over and every model of it is safe on this computer.
 *
 * Which runs: a run this app saw training on an SSH instance (never This computer, never a SLURM
 * cluster) while the instance had a command is armed. A stop the user asks for here disarms it
 * (they are at the keyboard; resuming it here arms it again, merely seeing it alive while it stops
 * does not); the end by completion, failure or the budget's stop does not.
 *
 * When: the host says the run has ended and its supervisor has exited; then the run's backup
 * runs, and every file the backup keeps must be verified on this computer with the host's sha256.
 * Otherwise it waits (and says what is missing) and tries again on the next check.
 *
 * Never twice: this computer records "starting" (atomically) before it asks the host, and the
 * host creates its own guard (runs/<id>/after_run.json, by link(), before the command starts)
 * that refuses every later start, from any desktop. After a crash between the two, the host's
 * record says whether it started; no record means it never did, so asking again is safe.
 */
import type { Notification } from '../../../shared/api/app'
import * as runsApi from '../../../shared/api/runs'
import type { AfterRunStatus } from '../../../shared/api/runs'
import type { DomainImpl } from '../../../shared/contract'
import { RpcError } from '../../../shared/rpc'
import type { HostRegistry } from '../host/hostRegistry'
import type { BackupFolder } from '../models/backupFolder'
import { backupWants, type Backups } from '../models/backups'
import { listRemoteModels } from '../models/remoteModels'
import { readAfterRunRecord, runAfterRunCommand, type HostAfterRun } from './afterRunHost'
import { AfterRunRecord, createAfterRunRecords } from './afterRunRecords'
import { listRuns } from './supervisorControl'

const ENDED = new Set(['completed', 'stopped', 'failed'])
const PENDING = new Set<AfterRunRecord['state']>(['armed', 'starting', 'started'])
const DEFAULT_CHECK_INTERVAL_MS = 5 * 60_000

export interface AfterRunDeps {
  dataDir: string
  hosts: HostRegistry
  backups: Backups
  backupFolder: BackupFolder
  /** The instance's after-run command; null when none is set, for This computer and for a SLURM cluster. */
  commandOf(instanceId: string): string | null
  instanceName(instanceId: string): string
  /** Whether the instance can be asked now (connected, Gantry set up); pending runs wait for it. */
  reachable(instanceId: string): boolean
  emit(status: AfterRunStatus): void
  notify(notification: Notification): void
  log(line: string): void
  /** How often pending runs are checked again (a backup still incomplete, a run still going). */
  checkIntervalMs?: number
}

const message = (error: unknown) => (error instanceof Error ? error.message : String(error))

export function createAfterRun(deps: AfterRunDeps) {
  const records = createAfterRunRecords(deps.dataDir, deps.log)
  const waiting = new Map<string, string>()
  const chains = new Map<string, Promise<void>>()
  const guards = new Map<string, Promise<unknown>>()
  /** One record change at a time per run (arm, cancel, disarm, armed → starting): short, unlike a check. */
  function exclusive<T>(key: string, change: () => Promise<T>): Promise<T> {
    const next = (guards.get(key) ?? Promise.resolve()).then(change)
    guards.set(key, next.catch(() => {}))
    return next
  }
  const intervalMs = deps.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS
  const minutes = `${Math.max(1, Math.round(intervalMs / 60_000))} min`
  let disposed = false

  async function status(instanceId: string, runId: string): Promise<AfterRunStatus> {
    const key = runsApi.runKey(instanceId, runId)
    const rec = await records.get(key)
    const off: AfterRunStatus = { instanceId, runId, command: null, state: 'off', message: null, startedAt: null, finishedAt: null, exitCode: null, output: null }
    if (!rec) return off
    const shown = { ...off, command: rec.command, message: rec.message, startedAt: rec.startedAt, finishedAt: rec.finishedAt, exitCode: rec.exitCode, output: rec.output }
    switch (rec.state) {
      case 'armed': {
        const command = deps.commandOf(instanceId)
        if (!command) return { ...off, message: 'The instance has no after-run command now.' }
        const why = waiting.get(key)
        return why ? { ...shown, command, state: 'waiting', message: why } : { ...shown, command, state: 'armed' }
      }
      case 'starting':
        // With a message the host's answer was lost: it may or may not have started (the host's record will say).
        return { ...shown, state: rec.message ? 'started' : 'running' }
      default:
        return { ...shown, state: rec.state }
    }
  }

  const publish = async (instanceId: string, runId: string) => deps.emit(await status(instanceId, runId))

  async function setWaiting(instanceId: string, runId: string, why: string | null) {
    const key = runsApi.runKey(instanceId, runId)
    if (why === null) waiting.delete(key)
    else waiting.set(key, why)
    await publish(instanceId, runId)
  }

  async function withLease<T>(instanceId: string, fn: (lease: Awaited<ReturnType<HostRegistry['acquire']>>) => Promise<T>): Promise<T> {
    const lease = await deps.hosts.acquire(instanceId)
    try {
      return await fn(lease)
    } finally {
      lease.release()
    }
  }

  /** Why the run's backup is not complete on this computer, or null when every file is verified. */
  async function unverified(instanceId: string, runId: string): Promise<string | null> {
    const { includeCheckpoints } = await deps.backupFolder.settings()
    const wanted = (await withLease(instanceId, (lease) => listRemoteModels(lease, runId, deps.log))).filter((m) => backupWants(m, includeCheckpoints))
    const missing: string[] = []
    for (const m of wanted) {
      const copy = await deps.backupFolder.verifiedCopy(instanceId, runId, m.path)
      if (!copy || copy.sha256 !== m.sha256) missing.push(`${m.game}/${m.file}`)
    }
    if (!missing.length) return null
    const failure = (await deps.backups.history()).records.find((r) => r.instanceId === instanceId && r.runId === runId && r.failures.length)?.failures[0]
    const names = missing.slice(0, 3).join(', ') + (missing.length > 3 ? ', …' : '')
    return (
      `Waiting for backups: ${missing.length} of ${wanted.length} files are not verified on this computer (${names})` +
      `${failure ? `; the last backup said: ${failure.message}` : ''}. It backs up again in ${minutes}, or press Back up now in Models.`
    )
  }

  async function settle(instanceId: string, runId: string, rec: AfterRunRecord, host: HostAfterRun): Promise<void> {
    const key = runsApi.runKey(instanceId, runId)
    const next: AfterRunRecord =
      host.state === 'finished'
        ? { ...rec, state: 'finished', finishedAt: Date.now(), exitCode: host.exit_code ?? null, timedOut: host.timed_out ?? false, output: host.output, message: host.timed_out ? 'It ran past its time limit and was stopped.' : host.already ? 'It had already run (the host records it).' : null }
        : { ...rec, state: 'started', message: 'It started on the host, but no outcome came back: the host stopped answering (as it does when the command stops the machine). It is never started again.' }
    await records.put(key, next)
    waiting.delete(key)
    await publish(instanceId, runId)
    if (next.state === 'finished' && !host.already) {
      const ok = next.exitCode === 0
      deps.notify({
        level: ok ? 'info' : 'warning',
        title: ok ? 'After-run command ran' : 'After-run command failed',
        body: `On ${deps.instanceName(instanceId)} after run ${runId}: ${ok ? 'exit code 0' : next.timedOut ? 'stopped at its time limit' : `exit code ${next.exitCode ?? 'unknown'}`}.${ok ? '' : ' See the run for its output.'}`,
      })
    }
  }

  async function checkNow(instanceId: string, runId: string): Promise<void> {
    const key = runsApi.runKey(instanceId, runId)
    const rec = await records.get(key)
    if (!rec || !PENDING.has(rec.state) || !deps.reachable(instanceId)) return
    if (rec.state !== 'armed') {
      // It was started: only the host's record can say how it went (never start it again).
      const host = await withLease(instanceId, (lease) => readAfterRunRecord(lease, runId))
      if (host.state !== 'none') {
        if (rec.state === 'starting' || host.state === 'finished') await settle(instanceId, runId, rec, host)
        return
      }
      if (rec.state === 'started') return
      // "starting" and no guard on the host: it never started, so starting it now is still safe.
    }
    const command = rec.command ?? deps.commandOf(instanceId)
    if (!command) return
    const run = await withLease(instanceId, async (lease) => (await listRuns(lease)).find((r) => r.runId === runId))
    if (!run) return setWaiting(instanceId, runId, `Run ${runId} is no longer on the host, so its after-run command waits. Cancel it if the run is gone for good.`)
    if (run.supervisorAlive || !ENDED.has(run.state ?? '')) return setWaiting(instanceId, runId, null)

    let missing = await unverified(instanceId, runId)
    if (missing) {
      await setWaiting(instanceId, runId, 'The run has ended: backing up its models first.')
      await deps.backups.run('event', instanceId, runId)
      missing = await unverified(instanceId, runId)
    }
    if (missing) return setWaiting(instanceId, runId, missing)

    const starting = await exclusive(key, async () => {
      const now = await records.get(key) // the user may have cancelled while the backup ran
      if (!now || (now.state !== 'armed' && now.state !== 'starting')) return null
      const next: AfterRunRecord = { ...now, state: 'starting', command, startedAt: Date.now(), message: null }
      await records.put(key, next) // before the host is asked, so a crash from here on is never a silent rerun
      return next
    })
    if (!starting) return
    waiting.delete(key)
    await publish(instanceId, runId)
    let answer: HostAfterRun
    try {
      answer = await withLease(instanceId, (lease) => runAfterRunCommand(lease, runId, command))
    } catch (error) {
      await records.put(key, { ...starting, message: `No answer came back from the host (${message(error)}); if the command stops the machine, that is expected. Gantry asks the host how it went once it can reach it again; it is never started twice.` })
      await publish(instanceId, runId)
      return
    }
    await settle(instanceId, runId, starting, answer)
  }

  /** Checks of one run never overlap; a failed check says why and is tried again later. */
  function check(instanceId: string, runId: string): Promise<void> {
    const key = runsApi.runKey(instanceId, runId)
    const next = (chains.get(key) ?? Promise.resolve()).then(async () => {
      if (disposed) return
      try {
        await checkNow(instanceId, runId)
      } catch (error) {
        deps.log(`[after-run] check of ${key} failed: ${message(error)}`)
        const rec = await records.get(key)
        if (rec?.state === 'armed') await setWaiting(instanceId, runId, `Could not check the run: ${message(error)}. Tried again in ${minutes}.`)
      }
    })
    chains.set(key, next)
    return next
  }

  async function checkPending(onlyInstance: string | null): Promise<void> {
    for (const key of await records.keys()) {
      const slash = key.indexOf('/')
      const instanceId = key.slice(0, slash)
      if (onlyInstance !== null && instanceId !== onlyInstance) continue
      const rec = await records.get(key)
      if (rec && PENDING.has(rec.state)) void check(instanceId, key.slice(slash + 1))
    }
  }

  const timer = setInterval(() => void checkPending(null), intervalMs)
  timer.unref?.()

  const api: DomainImpl<typeof runsApi.afterRunMethods> = {
    'runs.afterRun': ({ instanceId, runId }) => status(instanceId, runId),
    'runs.cancelAfterRun': async ({ instanceId, runId }) => {
      const key = runsApi.runKey(instanceId, runId)
      await exclusive(key, async () => {
        const rec = await records.get(key)
        if (rec && rec.state !== 'armed' && rec.state !== 'cancelled') {
          throw new RpcError('conflict', `The after-run command of run ${runId} has already started${rec.startedAt ? ` (${new Date(rec.startedAt).toLocaleString()})` : ''}; it cannot be cancelled any more.`)
        }
        if (rec?.state === 'armed') {
          await records.put(key, { ...rec, state: 'cancelled', cancelledBy: 'user', message: 'Cancelled: nothing runs after this run.' })
          waiting.delete(key)
        }
      })
      const now = await status(instanceId, runId)
      deps.emit(now)
      return now
    },
  }

  return {
    api,
    /**
     * The run was seen training (launched, resumed, or found live): arm it when the instance has a
     * command. One the user cancelled stays cancelled. One cancelled by a stop from here is armed again
     * only when `rearmStopped` (the user resumed it here, or the stop failed): a run found alive in a
     * listing may be one that is still stopping, and re-arming it would run the command the user's stop
     * cancelled.
     */
    async armLiveRun(instanceId: string, runId: string, rearmStopped: boolean): Promise<void> {
      if (!deps.commandOf(instanceId)) return
      const key = runsApi.runKey(instanceId, runId)
      const armed = await exclusive(key, async () => {
        const rec = await records.get(key)
        if (rec && !(rec.state === 'cancelled' && rec.cancelledBy === 'stop' && rearmStopped)) return false
        await records.put(key, AfterRunRecord.parse({ state: 'armed', armedAt: Date.now() }))
        return true
      })
      if (armed) await publish(instanceId, runId)
    },
    /** The user stopped the run from this app: they are here, so nothing runs after it. */
    async disarmForStop(instanceId: string, runId: string): Promise<void> {
      const key = runsApi.runKey(instanceId, runId)
      const disarmed = await exclusive(key, async () => {
        const rec = await records.get(key)
        if (rec?.state !== 'armed') return false
        await records.put(key, { ...rec, state: 'cancelled', cancelledBy: 'stop', message: 'You stopped this run, so its after-run command does not run. Resuming the run arms it again.' })
        return true
      })
      if (!disarmed) return
      waiting.delete(key)
      await publish(instanceId, runId)
    },
    /** Journal events of a followed run: its end is the moment to check. */
    onRunEvents(instanceId: string, runId: string, events: Array<{ type: string }>): void {
      if (events.some((e) => e.type === 'run_completed')) void check(instanceId, runId)
    },
    /** An instance became reachable (connected after a sleep, set up): check its pending runs. */
    onReachable(instanceId: string): void {
      void checkPending(instanceId)
    },
    /** For tests: check one run now and wait for it. */
    check,
    dispose() {
      disposed = true
      clearInterval(timer)
    },
  }
}

export type AfterRun = ReturnType<typeof createAfterRun>
