import type { ReactNode } from 'react'
import type { InstanceSummary } from '../../../../shared/api/instances'
import { connectionText } from './connectionText'
import { KIND_LABEL } from './KindChoice'

/**
 * Name, address and connection state. Other features add their buttons through `actions`
 * (the Launch button, which offers "Set up now" until the instance is set up).
 */
export function InstanceHeader({ instance, actions, children }: { instance: InstanceSummary; actions?: ReactNode; children?: ReactNode }) {
  const c = instance.connection
  return (
    <header className="page-header instance-header">
      <h1>{instance.name}</h1>
      <span className="muted">
        {instance.kind !== 'local' && `${KIND_LABEL[instance.kind]} · `}
        {instance.address}
      </span>
      {instance.kind !== 'local' && (
        <span className={`connection-badge connection-${c.status}`} data-testid="connection-state" title={c.message ?? undefined}>
          {connectionText(c)}
        </span>
      )}
      {instance.setup.status === 'failed' && <span className="connection-badge connection-failed">setup failed</span>}
      <span className="header-actions">
        {/* Other features' buttons (e.g. Launch, which says "Set up now" until setup is done) go here via `actions`. */}
        {actions}
        {children}
      </span>
    </header>
  )
}
