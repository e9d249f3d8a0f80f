/**
 * Models in the store: download progress per file (from `models.progress`), the backup history
 * and settings. Model lists themselves are fetched by the Models view per run.
 */
import type { StateCreator } from 'zustand'
import type { BackupHistory, ModelsSettings, ProgressEvent } from '../../../shared/api/models'

export const progressKey = (instanceId: string, runId: string, path: string): string => `${instanceId}/${runId}/${path}`

export interface ModelsSlice {
  modelProgress: Record<string, ProgressEvent | undefined>
  /** Bumped when a download finishes (verified, failed, mismatch, cancelled) so lists refresh. */
  modelsRevision: number
  backupHistory: BackupHistory | null
  modelsSettings: ModelsSettings | null
  applyModelProgress(event: ProgressEvent): void
  setBackupHistory(history: BackupHistory): void
  setModelsSettings(settings: ModelsSettings): void
}

export const createModelsSlice: StateCreator<ModelsSlice, [], [], ModelsSlice> = (set) => ({
  modelProgress: {},
  modelsRevision: 0,
  backupHistory: null,
  modelsSettings: null,
  applyModelProgress: (event) =>
    set((s) => {
      const done = event.status !== 'queued' && event.status !== 'downloading'
      return {
        modelProgress: { ...s.modelProgress, [progressKey(event.instanceId, event.runId, event.path)]: event },
        modelsRevision: done ? s.modelsRevision + 1 : s.modelsRevision,
      }
    }),
  setBackupHistory: (backupHistory) => set({ backupHistory }),
  setModelsSettings: (modelsSettings) => set({ modelsSettings }),
})
