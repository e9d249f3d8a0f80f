import type { StateCreator } from 'zustand'
import type { MethodOutput } from '../../../shared/contract'

export interface Toast {
  id: number
  level: 'info' | 'success' | 'warning' | 'error'
  title: string
  body: string
  createdAt: number
}

export interface AppSlice {
  info: MethodOutput<'app.info'> | null
  backend: 'open' | 'closed'
  toasts: Toast[]
  setInfo(info: MethodOutput<'app.info'>): void
  setBackend(status: 'open' | 'closed'): void
  pushToast(toast: Omit<Toast, 'id' | 'createdAt'>): void
  dismissToast(id: number): void
}

let toastIds = 0

export const createAppSlice: StateCreator<AppSlice, [], [], AppSlice> = (set) => ({
  info: null,
  backend: 'open',
  toasts: [],
  setInfo: (info) => set({ info }),
  setBackend: (backend) => set({ backend }),
  pushToast: (toast) => set((s) => ({ toasts: [...s.toasts.slice(-4), { ...toast, id: ++toastIds, createdAt: Date.now() }] })),
  dismissToast: (id) => set((s) => ({ toasts: s.toasts.filter((t) => t.id !== id) })),
})
