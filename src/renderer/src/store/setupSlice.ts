/**
 * Set-up in the store: each instance's checklist, result and doctor report, and the questions the
 * SSH layer is waiting on (host key, passphrase). Fed by events in bindEvents; set-up output bytes
 * live outside the store (setupOutput).
 */
import type { StateCreator } from 'zustand'
import type { PromptEvent } from '../../../shared/api/instances'
import type { DoctorReport, SetupResult, SetupStep } from '../../../shared/api/setup'
import { api } from '../api'
import { reportError } from './errors'
import { setupOutput } from './setupOutput'

export interface SetupProgress {
  steps: SetupStep[]
  running: boolean
  result: SetupResult | null
  doctor: DoctorReport | null
  doctorRunning: boolean
}

export const NO_SETUP_PROGRESS: SetupProgress = { steps: [], running: false, result: null, doctor: null, doctorRunning: false }

const INTERRUPTED = 'stopped: the connection to Gantry was lost (Gantry was closed or stopped). Once it is back, click Set up again.'

export interface SetupSlice {
  setupProgress: Record<string, SetupProgress | undefined>
  /** Questions waiting for an answer, oldest first. */
  prompts: PromptEvent[]
  patchSetup(id: string, next: Partial<SetupProgress>): void
  /** The backend went away: a set-up this window watched cannot finish unseen, so it says it stopped instead of spinning. */
  interruptWatchedSetups(): void
  showPrompt(prompt: PromptEvent): void
  closePrompt(promptId: string): void
  startSetup(id: string): Promise<SetupResult | null>
  runDoctor(id: string): Promise<DoctorReport | null>
  answerPrompt(promptId: string, accept: boolean, value?: string): Promise<void>
}

export const createSetupSlice: StateCreator<SetupSlice, [], [], SetupSlice> = (set, get) => ({
  setupProgress: {},
  prompts: [],
  patchSetup: (id, next) => set((s) => ({ setupProgress: { ...s.setupProgress, [id]: { ...(s.setupProgress[id] ?? NO_SETUP_PROGRESS), ...next } } })),
  interruptWatchedSetups() {
    for (const [id, p] of Object.entries(get().setupProgress)) {
      if (!p?.running) continue
      get().patchSetup(id, { running: false, steps: p.steps.map((s) => (s.status === 'running' ? { ...s, status: 'fail' as const, message: INTERRUPTED } : s)) })
    }
  },
  showPrompt: (prompt) => set((s) => ({ prompts: [...s.prompts.filter((p) => p.promptId !== prompt.promptId), prompt] })),
  closePrompt: (promptId) => set((s) => ({ prompts: s.prompts.filter((p) => p.promptId !== promptId) })),
  async startSetup(id) {
    if (get().setupProgress[id]?.running) return null
    setupOutput.clear(id)
    get().patchSetup(id, { running: true, result: null, steps: [] })
    try {
      const result = await api['setup.run']({ id })
      get().patchSetup(id, { running: false, result, steps: result.steps })
      return result
    } catch (error) {
      get().patchSetup(id, { running: false })
      reportError(error, { instanceId: id })
      return null
    }
  },
  async runDoctor(id) {
    get().patchSetup(id, { doctorRunning: true })
    try {
      const doctor = await api['setup.doctor']({ id })
      get().patchSetup(id, { doctor, doctorRunning: false })
      return doctor
    } catch (error) {
      get().patchSetup(id, { doctorRunning: false })
      reportError(error, { instanceId: id })
      return null
    }
  },
  async answerPrompt(promptId, accept, value) {
    get().closePrompt(promptId)
    try {
      await api['instances.answerPrompt']({ promptId, accept, value })
    } catch (error) {
      reportError(error)
    }
  },
})
