/**
 * runs.*: launch and control runs through the supervisor CLI, follow each watched run's journal
 * (one attach per run, shared by every window), keep a bounded backlog for back-fill, deliver
 * events to the renderer in batches (every 250 ms) and raise notifications.
 */
import type { Notification } from '../../../shared/api/app'
import * as runsApi from '../../../shared/api/runs'
import type { DomainImpl } from '../../../shared/contract'
import type { RunEvent } from '../../../shared/remoteProtocol'
import { RpcError } from '../../../shared/rpc'
import type { EventBus } from '../eventBus'
import type { HostRegistry } from '../host/hostRegistry'
import { createRunNotifier, type RunNotifier } from './runNotifier'
import type { HostSession } from '../host/hostSession'
import { startJournalAttach, type JournalAttach } from './journalAttach'
import { startJournalPoll } from './journalPoll'
import { slurmSchedulerBlock } from './slurmScheduler'
import { withBudgetPrice } from './budgetPrice'
import { readGameThumbnail } from './gameThumbnail'
import type { SlurmSettings } from '../../../shared/api/instances'
import { loadBuiltinPlans } from './plans'
import { createRunHistory, type RunHistory } from './runHistory'
import { controlRun, listRuns, resumeRun, startRun, stopRun } from './supervisorControl'

export const EVENT_BATCH_MS = 250

/** How a run came to be seen training (RunsServiceOptions.onRunLive). */
export type RunLiveHow = 'launched' | 'resumed' | 'found'

export interface RunsServiceOptions {
  bus: EventBus
  hosts: HostRegistry
  bundleDir: string
  instanceName(instanceId: string): string
  /** A SLURM cluster instance's settings (null for a plain host): its runs go to SLURM and are polled. */
  instanceSlurm?(instanceId: string): SlurmSettings | null
  /** The instance's hourly price, which a budget in money is counted in (null: none set). */
  instancePrice?(instanceId: string): number | null
  notify(notification: Notification): void
  log(line: string): void
  /**
   * A run was seen training: its after-run command is armed. `how`: launched or resumed from this app
   * (or a stop from here failed), which also re-arms a command that a stop from here cancelled; or only
   * found alive in a listing, which never does: a run that is stopping is still alive for a while.
   */
  onRunLive?(instanceId: string, runId: string, how: RunLiveHow): Promise<void>
  /** The user is stopping a run from this app: its after-run command is disarmed first. */
  onRunStopping?(instanceId: string, runId: string): Promise<void>
  staleAfterMs?: number
  historyLimit?: number
}

interface Watched {
  instanceId: string
  runId: string
  attach: JournalAttach
  history: RunHistory
  pending: RunEvent[]
  notifier: RunNotifier
}

export function createRunsService(options: RunsServiceOptions) {
  const { bus, hosts } = options
  const watched = new Map<string, Watched>()

  const withSession = async <T>(instanceId: string, fn: (session: HostSession) => Promise<T>): Promise<T> => {
    const lease = await hosts.acquire(instanceId)
    try {
      return await fn(lease)
    } finally {
      lease.release()
    }
  }

  /** Runs with a live supervisor are followed by the main process itself, whether or not a window
   * shows them, so notifications and event-triggered backups never depend on what is on screen. */
  const listAndFollow = async (session: HostSession, instanceId: string) => {
    const runs = await listRuns(session)
    for (const run of runs) {
      if (!run.supervisorAlive) continue
      watch(instanceId, run.runId)
      await options.onRunLive?.(instanceId, run.runId, 'found')
    }
    return runs
  }

  const publishRuns = async (instanceId: string) => {
    try {
      const runs = await withSession(instanceId, (session) => listAndFollow(session, instanceId))
      bus.emit('runs.changed', { instanceId, runs }, instanceId)
    } catch (error) {
      options.log(`[runs] list on ${instanceId} failed: ${error instanceof Error ? error.message : String(error)}`)
    }
  }

  const flush = () => {
    for (const w of watched.values()) {
      if (!w.pending.length) continue
      const events = w.pending.splice(0)
      bus.emit('runs.events', { instanceId: w.instanceId, runId: w.runId, events }, runsApi.runKey(w.instanceId, w.runId))
    }
  }
  const flushTimer = setInterval(flush, EVENT_BATCH_MS)
  flushTimer.unref?.()
  const tickTimer = setInterval(() => {
    for (const w of watched.values()) for (const n of w.notifier.onTick(w.attach.state(), Date.now())) options.notify(n)
  }, 5000)
  tickTimer.unref?.()

  const watch = (instanceId: string, runId: string): Watched => {
    const key = runsApi.runKey(instanceId, runId)
    const existing = watched.get(key)
    if (existing) return existing
    const history = createRunHistory(options.historyLimit)
    const notifier = createRunNotifier(options.instanceName(instanceId), runId, Date.now() - 5000)
    const w: Watched = {
      instanceId,
      runId,
      history,
      pending: [],
      notifier,
      // A SLURM login node keeps nothing running for us: poll (sync, then attach without --follow).
      attach: (options.instanceSlurm?.(instanceId) ? startJournalPoll : startJournalAttach)({
        instanceId,
        runId,
        acquire: () => hosts.acquire(instanceId),
        staleAfterMs: options.staleAfterMs,
        log: options.log,
        onEvents(events) {
          history.append(events)
          w.pending.push(...events)
          for (const n of notifier.onEvents(events)) options.notify(n)
          if (events.some((e) => e.type === 'run_completed' || e.type === 'run_started')) void publishRuns(instanceId)
        },
        onState(state) {
          bus.emit('runs.stream', state, key)
        },
      }),
    }
    watched.set(key, w)
    return w
  }

  const api: DomainImpl<Omit<typeof runsApi.methods, keyof typeof runsApi.afterRunMethods>> = {
    'runs.plans': () => loadBuiltinPlans(options.bundleDir, options.log),
    // Listing only lists: following is main's job (followLiveRuns), so a window asking costs no attach.
    'runs.list': ({ instanceId }) => withSession(instanceId, listRuns),
    'runs.launch': async ({ instanceId, plan }) => {
      const runId = await withSession(instanceId, async (session) => {
        const live = (await listRuns(session)).find((r) => r.supervisorAlive)
        if (live) throw new RpcError('conflict', `Run ${live.runId} is already training on ${options.instanceName(instanceId)}. Open it, or stop it before launching another.`)
        const slurm = options.instanceSlurm?.(instanceId) ?? null
        const priced = withBudgetPrice(plan, options.instancePrice?.(instanceId) ?? null, options.instanceName(instanceId), slurm !== null)
        return startRun(session, slurm ? { ...priced, scheduler: slurmSchedulerBlock(slurm) } : priced)
      })
      watch(instanceId, runId)
      await options.onRunLive?.(instanceId, runId, 'launched')
      void publishRuns(instanceId)
      return { runId }
    },
    'runs.watch': async ({ instanceId, runId }) => watch(instanceId, runId).attach.state(),
    'runs.history': async ({ instanceId, runId, fromSeq }) => {
      const w = watch(instanceId, runId)
      flush() // so history and the next batch never overlap: everything pending is sent first
      return { ...w.history.since(fromSeq), stream: w.attach.state() }
    },
    'runs.resumeRun': async ({ instanceId, runId }) => {
      await withSession(instanceId, (session) => resumeRun(session, runId))
      await options.onRunLive?.(instanceId, runId, 'resumed')
      watch(instanceId, runId).attach.followAgain() // a stream that ended with the run picks up its new events
      void publishRuns(instanceId)
      return { runId }
    },
    'runs.stop': async ({ instanceId, runId }) => {
      await options.onRunStopping?.(instanceId, runId)
      const state = await withSession(instanceId, (s) => stopRun(s, runId)).catch(async (error: unknown) => {
        await options.onRunLive?.(instanceId, runId, 'resumed') // not stopped after all: armed again
        throw error
      })
      void publishRuns(instanceId)
      return { state }
    },
    'runs.pause': async ({ instanceId, runId, game }) => ({ ok: true as const, note: await withSession(instanceId, (s) => controlRun(s, runId, { action: 'pause', game })) }),
    'runs.resume': async ({ instanceId, runId, game }) => ({ ok: true as const, note: await withSession(instanceId, (s) => controlRun(s, runId, { action: 'resume', game })) }),
    'runs.thumbnail': ({ instanceId, runId, game }) => withSession(instanceId, (s) => readGameThumbnail(s, runId, game)),
    'runs.setSlots': async ({ instanceId, runId, slots }) => ({ ok: true as const, note: await withSession(instanceId, (s) => controlRun(s, runId, { action: 'set-slots', slots })) }),
  }

  return {
    api,
    /** Follow every live run on an instance (at start-up and whenever it connects). */
    followLiveRuns: (instanceId: string) => publishRuns(instanceId),
    /** For tests and benches: the live attach of a watched run. */
    attachOf: (instanceId: string, runId: string) => watched.get(runsApi.runKey(instanceId, runId))?.attach ?? null,
    dispose() {
      clearInterval(flushTimer)
      clearInterval(tickTimer)
      for (const w of watched.values()) w.attach.stop()
      watched.clear()
    },
  }
}
