/**
 * Runs in the store: ids, summaries, stream health and one revision counter per run (bumped at
 * most a few times a second by the run feed). Metric series live in the feed's ring buffers.
 * The runs list per instance comes from `runs.changed`; it is asked for only when a window has
 * none yet for an instance (or the user presses Refresh): each listing costs an SSH exec and a
 * Python start on the host.
 */
import type { StateCreator } from 'zustand'
import { runKey, type AfterRunStatus, type BuiltinPlan, type RunSummary, type StreamState } from '../../../shared/api/runs'
import { api } from '../api'
import { reportError } from './errors'

export interface RunsSlice {
  runsByInstance: Record<string, RunSummary[] | undefined>
  selectedRunByInstance: Record<string, string | undefined>
  streams: Record<string, StreamState | undefined>
  runRevision: Record<string, number | undefined>
  /** Each run's after-run command and where it stands, by runKey (from runs.afterRun events and reads). */
  afterRuns: Record<string, AfterRunStatus | undefined>
  plans: BuiltinPlan[] | null
  setRuns(instanceId: string, runs: RunSummary[]): void
  /** Lists the instance's runs once; a `runs.changed` that lands meanwhile wins over the older answer. */
  refreshRuns(instanceId: string): Promise<void>
  selectRun(instanceId: string, runId: string): void
  setStream(key: string, state: StreamState): void
  bumpRunRevision(key: string): void
  setPlans(plans: BuiltinPlan[]): void
  setAfterRun(status: AfterRunStatus): void
}

/** Bumped by every setRuns, so a listing that started before a newer list arrived is dropped. */
const listVersion = new Map<string, number>()

export const createRunsSlice: StateCreator<RunsSlice, [], [], RunsSlice> = (set, get) => ({
  runsByInstance: {},
  selectedRunByInstance: {},
  streams: {},
  runRevision: {},
  afterRuns: {},
  plans: null,
  setRuns: (instanceId, runs) => {
    listVersion.set(instanceId, (listVersion.get(instanceId) ?? 0) + 1)
    set((s) => ({
      runsByInstance: { ...s.runsByInstance, [instanceId]: runs },
      // Follow the newest run unless the user picked one that still exists.
      selectedRunByInstance: {
        ...s.selectedRunByInstance,
        [instanceId]: runs.some((r) => r.runId === s.selectedRunByInstance[instanceId]) ? s.selectedRunByInstance[instanceId] : runs[0]?.runId,
      },
    }))
  },
  async refreshRuns(instanceId) {
    const version = listVersion.get(instanceId) ?? 0
    try {
      const runs = await api['runs.list']({ instanceId })
      if ((listVersion.get(instanceId) ?? 0) === version) get().setRuns(instanceId, runs)
    } catch (error) {
      reportError(error, { instanceId })
    }
  },
  selectRun: (instanceId, runId) => set((s) => ({ selectedRunByInstance: { ...s.selectedRunByInstance, [instanceId]: runId } })),
  setStream: (key, state) => set((s) => ({ streams: { ...s.streams, [key]: state } })),
  bumpRunRevision: (key) => set((s) => ({ runRevision: { ...s.runRevision, [key]: (s.runRevision[key] ?? 0) + 1 } })),
  setPlans: (plans) => set({ plans }),
  setAfterRun: (status) => set((s) => ({ afterRuns: { ...s.afterRuns, [runKey(status.instanceId, status.runId)]: status } })),
})
