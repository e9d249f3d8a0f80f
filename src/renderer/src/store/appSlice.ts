import type { StateCreator } from 'zustand'
import type { Notification } from '../../../shared/api/app'
import type { MethodOutput } from '../../../shared/contract'

/** A notification (from app.notification or the window itself) while it is on screen. */
export interface Toast extends Notification {
  id: number
  createdAt: number
  /** The instance the toast is about: it goes away when the instance is removed. */
  instanceId?: string
}

export interface AppSlice {
  info: MethodOutput<'app.info'> | null
  backend: 'open' | 'closed'
  toasts: Toast[]
  setInfo(info: MethodOutput<'app.info'>): void
  setBackend(status: 'open' | 'closed'): void
  pushToast(notification: Notification): void
  dismissToast(id: number): void
  /** Drops the toasts about instances that no longer exist. */
  dropToastsAboutGone(instanceIds: ReadonlySet<string>): void
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
  dropToastsAboutGone: (instanceIds) => set((s) => ({ toasts: s.toasts.filter((t) => t.instanceId === undefined || instanceIds.has(t.instanceId)) })),
})
