/**
 * Runs in the store: ids, summaries, stream health and one revision counter per run (bumped at
 * most a few times a second by the run feed). Metric series live in the feed's ring buffers.
 */
import type { StateCreator } from 'zustand'
import type { BuiltinPlan, RunSummary, StreamState } from '../../../shared/api/runs'

export interface RunsSlice {
  runsByInstance: Record<string, RunSummary[] | undefined>
  selectedRunByInstance: Record<string, string | undefined>
  streams: Record<string, StreamState | undefined>
  runRevision: Record<string, number | undefined>
  plans: BuiltinPlan[] | null
  setRuns(instanceId: string, runs: RunSummary[]): void
  selectRun(instanceId: string, runId: string): void
  setStream(key: string, state: StreamState): void
  bumpRunRevision(key: string): void
  setPlans(plans: BuiltinPlan[]): void
}

export const createRunsSlice: StateCreator<RunsSlice, [], [], RunsSlice> = (set) => ({
  runsByInstance: {},
  selectedRunByInstance: {},
  streams: {},
  runRevision: {},
  plans: null,
  setRuns: (instanceId, runs) =>
    set((s) => ({
      runsByInstance: { ...s.runsByInstance, [instanceId]: runs },
      // Follow the newest run unless the user picked one that still exists.
      selectedRunByInstance: {
        ...s.selectedRunByInstance,
        [instanceId]: runs.some((r) => r.runId === s.selectedRunByInstance[instanceId]) ? s.selectedRunByInstance[instanceId] : runs[0]?.runId,
      },
    })),
  selectRun: (instanceId, runId) => set((s) => ({ selectedRunByInstance: { ...s.selectedRunByInstance, [instanceId]: runId } })),
  setStream: (key, state) => set((s) => ({ streams: { ...s.streams, [key]: state } })),
  bumpRunRevision: (key) => set((s) => ({ runRevision: { ...s.runRevision, [key]: (s.runRevision[key] ?? 0) + 1 } })),
  setPlans: (plans) => set({ plans }),
})
