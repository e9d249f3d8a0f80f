/** Which view of the selected instance is shown. Any feature can switch it (open a log, go to set-up). */
import type { StateCreator } from 'zustand'

export type TabId = 'training' | 'terminals' | 'models' | 'setup'

export interface UiSlice {
  activeTab: TabId
  openTab(tab: TabId): void
}

export const createUiSlice: StateCreator<UiSlice, [], [], UiSlice> = (set) => ({
  activeTab: 'training',
  openTab: (activeTab) => set({ activeTab }),
})
