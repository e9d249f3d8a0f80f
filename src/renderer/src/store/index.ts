/**
 * One zustand store made of typed slices. It holds ids, statuses and small values; terminal
 * bytes and raw metric series live outside it (ring buffers + a revision counter).
 */
import { create } from 'zustand'
import { createAppSlice, type AppSlice } from './appSlice'
import { createInstancesSlice, type InstancesSlice } from './instancesSlice'
import { createModelsSlice, type ModelsSlice } from './modelsSlice'
import { createRunsSlice, type RunsSlice } from './runsSlice'
import { createSetupSlice, type SetupSlice } from './setupSlice'
import { createTerminalsSlice, type TerminalsSlice } from './terminalsSlice'
import { createUiSlice, type UiSlice } from './uiSlice'

export type StoreState = AppSlice & InstancesSlice & RunsSlice & SetupSlice & TerminalsSlice & ModelsSlice & UiSlice

export const useStore = create<StoreState>()((...a) => ({
  ...createAppSlice(...a),
  ...createInstancesSlice(...a),
  ...createModelsSlice(...a),
  ...createRunsSlice(...a),
  ...createSetupSlice(...a),
  ...createTerminalsSlice(...a),
  ...createUiSlice(...a),
}))
