import { useEffect } from 'react'
import { useStore } from '../store'

const AUTO_DISMISS_MS = 8000

export function Toasts() {
  const toasts = useStore((s) => s.toasts)
  const dismiss = useStore((s) => s.dismissToast)
  useEffect(() => {
    if (toasts.length === 0) return
    const oldest = toasts[0]
    if (oldest.level === 'error') return
    const timer = setTimeout(() => dismiss(oldest.id), AUTO_DISMISS_MS)
    return () => clearTimeout(timer)
  }, [toasts, dismiss])
  return (
    <div className="toasts" role="region" aria-label="Notifications">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.level}`} role={t.level === 'error' ? 'alert' : 'status'}>
          <div className="toast-text">
            <strong>{t.title}</strong>
            <p>{t.body}</p>
          </div>
          <button className="icon-button" aria-label="Dismiss" onClick={() => dismiss(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  )
}
