/**
 * Setup progress and prompts for the instances feature. Small values only: terminal bytes live in
 * a per-instance ring buffer outside the store (setupOutput), with listeners for live terminals.
 * Kept beside the feature (not a slice of the shared store) because it is bound lazily by the
 * feature's always-mounted Sidebar.
 */
import { create } from 'zustand'
import type { DoctorReport, PromptEvent, SetupResult, SetupStep } from '../../../../shared/api/instances'
import { api } from '../../api'
import { reportError } from '../../store/errors'

export interface SetupProgress {
  steps: SetupStep[]
  running: boolean
  result: SetupResult | null
  doctor: DoctorReport | null
  doctorRunning: boolean
}

interface InstancesUiState {
  progress: Record<string, SetupProgress>
  prompts: PromptEvent[]
  patch(id: string, next: Partial<SetupProgress>): void
}

const EMPTY: SetupProgress = { steps: [], running: false, result: null, doctor: null, doctorRunning: false }

export const useInstancesUi = create<InstancesUiState>()((set) => ({
  progress: {},
  prompts: [],
  patch: (id, next) => set((s) => ({ progress: { ...s.progress, [id]: { ...(s.progress[id] ?? EMPTY), ...next } } })),
}))

export function useSetupProgress(id: string): SetupProgress {
  return useInstancesUi((s) => s.progress[id]) ?? EMPTY
}

// --- terminal output: ring buffer per instance, outside the store ---------------------------------
const MAX_OUTPUT = 2_000_000
const output = new Map<string, string>()
const outputListeners = new Map<string, Set<(data: string) => void>>()

export const setupOutput = {
  get: (id: string) => output.get(id) ?? '',
  clear(id: string) {
    output.set(id, '')
    for (const l of outputListeners.get(id) ?? []) l('\x1bc')
  },
  subscribe(id: string, listener: (data: string) => void): () => void {
    let set = outputListeners.get(id)
    if (!set) outputListeners.set(id, (set = new Set()))
    set.add(listener)
    return () => set.delete(listener)
  },
}

let bound = false
/** Subscribes once to the feature's events (called by the Sidebar on mount). */
export function bindInstancesUiEvents(): void {
  if (bound) return
  bound = true
  api.on('instances.bootstrapOutput', ({ instanceId, data }) => {
    const next = (output.get(instanceId) ?? '') + data
    output.set(instanceId, next.length > MAX_OUTPUT ? next.slice(next.length - MAX_OUTPUT) : next)
    for (const l of outputListeners.get(instanceId) ?? []) l(data)
  })
  api.on('instances.bootstrapSteps', ({ instanceId, steps, running }) => useInstancesUi.getState().patch(instanceId, { steps, running }))
  // A set-up this page was watching cannot finish unseen: when the backend goes away (Gantry was
  // closed, and set-up with it), say so instead of spinning; a live set-up's next event corrects it.
  api.onStatus((status) => {
    if (status === 'closed') interruptWatchedSetups()
  })
  api.on('instances.prompt', (prompt) => useInstancesUi.setState((s) => ({ prompts: [...s.prompts.filter((p) => p.promptId !== prompt.promptId), prompt] })))
  api.on('instances.promptClosed', ({ promptId }) => useInstancesUi.setState((s) => ({ prompts: s.prompts.filter((p) => p.promptId !== promptId) })))
}

const INTERRUPTED = 'stopped: the connection to Gantry was lost (Gantry was closed or stopped). Once it is back, click Set up again.'

function interruptWatchedSetups(): void {
  const ui = useInstancesUi.getState()
  for (const [id, p] of Object.entries(ui.progress)) {
    if (!p.running) continue
    ui.patch(id, { running: false, steps: p.steps.map((s) => (s.status === 'running' ? { ...s, status: 'fail' as const, message: INTERRUPTED } : s)) })
  }
}

export async function startSetup(id: string): Promise<SetupResult | null> {
  const ui = useInstancesUi.getState()
  if (ui.progress[id]?.running) return null
  setupOutput.clear(id)
  ui.patch(id, { running: true, result: null, steps: [] })
  try {
    const result = await api['instances.setup']({ id })
    useInstancesUi.getState().patch(id, { running: false, result, steps: result.steps })
    return result
  } catch (error) {
    useInstancesUi.getState().patch(id, { running: false })
    reportError(error)
    return null
  }
}

export async function runDoctor(id: string): Promise<DoctorReport | null> {
  useInstancesUi.getState().patch(id, { doctorRunning: true })
  try {
    const doctor = await api['instances.doctor']({ id })
    useInstancesUi.getState().patch(id, { doctor, doctorRunning: false })
    return doctor
  } catch (error) {
    useInstancesUi.getState().patch(id, { doctorRunning: false })
    reportError(error)
    return null
  }
}

export async function answerPrompt(promptId: string, accept: boolean, value?: string): Promise<void> {
  useInstancesUi.setState((s) => ({ prompts: s.prompts.filter((p) => p.promptId !== promptId) }))
  try {
    await api['instances.answerPrompt']({ promptId, accept, value })
  } catch (error) {
    reportError(error)
  }
}

export function connectionText(c: { status: string; retryInS: number | null; message: string | null }): string {
  switch (c.status) {
    case 'connected':
      return 'connected'
    case 'connecting':
      return 'connecting…'
    case 'reconnecting':
      return c.retryInS !== null ? `reconnecting in ${c.retryInS} s` : 'reconnecting…'
    case 'failed':
      return `failed: ${c.message ?? 'unknown reason'}`
    default:
      return 'not connected'
  }
}
