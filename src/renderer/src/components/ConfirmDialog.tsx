/** A yes/no question before something that cannot be taken back in one click (Stop run). */
import type { ReactNode } from 'react'
import { useDialog } from './useDialog'

export function ConfirmDialog({ title, children, confirm, onConfirm, onCancel }: { title: string; children: ReactNode; confirm: string; onConfirm(): void; onCancel(): void }) {
  const ref = useDialog<HTMLDivElement>(onCancel)
  return (
    <div className="overlay" role="presentation" onMouseDown={(e) => e.target === e.currentTarget && onCancel()}>
      <div ref={ref} tabIndex={-1} className="panel confirm-dialog" role="alertdialog" aria-modal="true" aria-labelledby="confirm-title">
        <h2 id="confirm-title">{title}</h2>
        {children}
        <div className="dialog-actions">
          <button className="button" onClick={onCancel}>
            Cancel
          </button>
          <button className="button button-danger" onClick={onConfirm}>
            {confirm}
          </button>
        </div>
      </div>
    </div>
  )
}
