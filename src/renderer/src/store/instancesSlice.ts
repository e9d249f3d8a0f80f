import type { StateCreator } from 'zustand'
import type { InstanceSummary } from '../../../shared/api/instances'
import { LOCAL_INSTANCE_ID } from '../../../shared/api/instances'

export interface InstancesSlice {
  instances: InstanceSummary[]
  selectedInstanceId: string
  /** The app-wide "add an instance" wizard; it outlives the view that opened it. */
  addInstanceOpen: boolean
  setInstances(instances: InstanceSummary[]): void
  selectInstance(id: string): void
  setAddInstanceOpen(open: boolean): void
}

export const createInstancesSlice: StateCreator<InstancesSlice, [], [], InstancesSlice> = (set) => ({
  instances: [],
  selectedInstanceId: LOCAL_INSTANCE_ID,
  addInstanceOpen: false,
  setInstances: (instances) =>
    set((s) => ({
      instances,
      selectedInstanceId: instances.some((i) => i.id === s.selectedInstanceId) ? s.selectedInstanceId : LOCAL_INSTANCE_ID,
    })),
  selectInstance: (selectedInstanceId) => set({ selectedInstanceId }),
  setAddInstanceOpen: (addInstanceOpen) => set({ addInstanceOpen }),
})
