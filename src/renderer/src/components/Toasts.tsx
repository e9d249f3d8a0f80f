import { useEffect } from 'react'
import { useStore } from '../store'

const AUTO_DISMISS_MS = 8000

export function Toasts() {
  const toasts = useStore((s) => s.toasts)
  const dismiss = useStore((s) => s.dismissToast)
  // Each non-error toast leaves AUTO_DISMISS_MS after it appeared; errors stay until dismissed.
  useEffect(() => {
    const timers = toasts
      .filter((t) => t.level !== 'error')
      .map((t) => setTimeout(() => dismiss(t.id), Math.max(0, t.createdAt + AUTO_DISMISS_MS - Date.now())))
    return () => timers.forEach(clearTimeout)
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
