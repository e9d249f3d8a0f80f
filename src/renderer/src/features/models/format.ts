/** Small display helpers for the Models tab. */
import type { ModelRow } from '../../../../shared/api/models'
import type { ProgressEvent } from '../../../../shared/api/models'

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`
  return `${(n / 1024 ** 3).toFixed(2)} GB`
}

export function formatTime(ms: number | null): string {
  return ms === null ? 'never' : new Date(ms).toLocaleString()
}

export interface StatusView {
  tone: 'ok' | 'busy' | 'warn' | 'error' | 'idle'
  label: string
  detail: string | null
}

/** The row's local status, with live progress when a download is running. */
export function statusView(row: ModelRow, live: ProgressEvent | undefined): StatusView {
  const status = live && (live.status === 'queued' || live.status === 'downloading') ? live.status : row.local.status
  switch (status) {
    case 'queued':
      return { tone: 'busy', label: 'Queued', detail: null }
    case 'downloading': {
      const pct = live && live.total ? Math.floor((live.received / live.total) * 100) : Math.floor((row.local.progress ?? 0) * 100)
      const speed = live?.bytesPerSec ? ` · ${formatBytes(live.bytesPerSec)}/s` : ''
      return { tone: 'busy', label: `Downloading ${pct}%`, detail: speed || null }
    }
    case 'verified':
      return { tone: 'ok', label: 'Verified', detail: row.local.localPath }
    case 'mismatch':
      return { tone: 'error', label: 'Mismatch', detail: row.local.message }
    case 'failed':
      return { tone: 'error', label: 'Failed', detail: row.local.message }
    default:
      return { tone: 'idle', label: 'Not downloaded', detail: null }
  }
}
